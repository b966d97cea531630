import type { EngineLike } from './engine-like.js';
import type { Limiter } from './limiter.js';
import type { StatsCache } from './stats-cache.js';
import type { SyncController } from './sync-controller.js';
import type { ThumbnailCache } from './thumbnails.js';

/** Resolved settings and shared services handed to every route module. */
export interface ServerContext {
  engine: EngineLike;
  /** Bounds concurrent text and similar-image queries (model runs, index searches). */
  searchLimiter: Limiter;
  /**
   * The lane of image uploads (`POST /api/search/image`): their own limiter, so decoding uploaded
   * images never delays text searches waiting in {@link searchLimiter}.
   */
  uploadLimiter: Limiter;
  /** Most pixels of an uploaded query image (checked from its header before decoding). */
  maxQueryImagePixels: number;
  thumbnails: ThumbnailCache;
  sync: SyncController;
  /** `engine.stats()`, shared for a few seconds and refreshed after syncs. */
  stats: StatsCache;
  /** Server package version. */
  version: string;
  maxUploadBytes: number;
  maxSseClients: number;
  heartbeatMs: number;
}
