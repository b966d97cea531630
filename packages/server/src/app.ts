import { createRequire } from 'node:module';
import path from 'node:path';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import type { SyncSummary } from '@pixsearch/core/engine';
import type { ServerContext } from './context.js';
import type { EngineLike } from './engine-like.js';
import { errorResponse, type ErrorBody } from './http-errors.js';
import { DEFAULT_SEARCH_CONCURRENCY, Limiter } from './limiter.js';
import { buildOpenApi } from './openapi.js';
import { imageRoutes } from './routes/images.js';
import { OWNER_SECRET_HEADER, isOwner, localRoutes } from './routes/local.js';
import { pageRoutes } from './routes/page.js';
import { searchRoutes } from './routes/search.js';
import { syncRoutes } from './routes/sync.js';
import { zipRoutes } from './routes/zip.js';
import { LIMITS } from './schemas.js';
import { hostCheck, originCheck, tokenAuth } from './security.js';
import { TOKEN_RULE, tokenProblem } from './token-rule.js';
import { StatsCache } from './stats-cache.js';
import { SyncController, type SyncStartOptions, type SyncTrigger } from './sync-controller.js';
import { ThumbnailCache } from './thumbnails.js';

/** Options for {@link createApp}. Every limit has a safe default. */
export interface AppOptions {
  /** When set, every request except the page's static files needs this token (bearer header, or the cookie set by `/?token=`). */
  token?: string;
  /**
   * Host names (without port) the server answers to; others get 403 (DNS-rebinding defence).
   * `true` allows any. Default: any when a token is set, else the loopback names only.
   */
  allowedHosts?: readonly string[] | true;
  /** Origins allowed to call `/api` from other sites (CORS). Default: none, no CORS headers. */
  corsOrigins?: readonly string[];
  /** Thumbnail cache folder. Default `<engine dataDir>/thumbnails`. */
  thumbnailDir?: string;
  /** Largest image upload, bytes (default 20 MiB). */
  maxUploadBytes?: number;
  /**
   * Engine queries (model runs + index searches) in progress at once (default
   * {@link DEFAULT_SEARCH_CONCURRENCY}; see {@link Limiter}). Queries in progress together share
   * text-tower runs and index scans (the engine micro-batches them), so this is also the largest batch.
   */
  searchConcurrency?: number;
  /** Engine queries allowed to wait before new ones get 503 (default 256). */
  maxQueuedSearches?: number;
  /** Image-upload searches running at once, in their own lane beside text searches (default 1). */
  uploadConcurrency?: number;
  /** Image-upload searches allowed to wait before new ones get 503 (default 8). */
  maxQueuedUploads?: number;
  /** Most pixels (width × height) of an uploaded query image (default 40 MP); larger ones get 413. */
  maxQueryImagePixels?: number;
  /** Thumbnails generated at once (default 2). */
  thumbnailConcurrency?: number;
  /** Concurrent `/api/sync/events` listeners (default 32). */
  maxSseClients?: number;
  /** SSE heartbeat interval, ms (default 15000). */
  heartbeatMs?: number;
  /**
   * Per-run secret of the user who started the server (written to the data directory's discovery
   * file, mode 0600): requests carrying it in `X-Pixsearch-Secret` pass the token check and may use
   * `/api/local/*` (warm searches and syncs for the CLI). Without it those routes answer 403.
   */
  ownerSecret?: string;
  /** Called after each sync the server ran (API, watcher, CLI) succeeded, with the roots it was asked for (undefined: all). */
  onSyncDone?: (summary: SyncSummary, roots: string[] | undefined) => void;
  /** Called with every unexpected error (the client only sees a generic 500). The server never prints. */
  onError?: (err: unknown) => void;
}

/** The Hono app plus `shutdown()`, which aborts a server-started sync, ends SSE streams and waits for thumbnails being made. */
export type PixsearchApp = Hono & {
  /** Aborts a sync started through the API (committed work is kept), ends event streams. Does not close the engine. */
  shutdown(): Promise<void>;
  /**
   * Runs a sync after the one running (if any), reported to the page like any other, and
   * resolves with its summary (the folder watcher's entry point). Rejects when it fails.
   */
  requestSync(trigger?: SyncTrigger, options?: SyncStartOptions): Promise<SyncSummary>;
};

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

/** Thumbnails made ahead after a sync: the timeline's first page (the page asks for 48 at a time). */
const FIRST_SCREEN_THUMBNAILS = 48;

function packageVersion(): string {
  try {
    return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/**
 * The pixsearch HTTP app (JSON API under `/api`, the search page at `/`). Use it without a
 * socket (`app.request()`) or serve it with {@link startServer}. The caller owns `engine` and
 * closes it after calling `app.shutdown()`.
 */
export function createApp(engine: EngineLike, options: AppOptions = {}): PixsearchApp {
  const version = packageVersion();
  const stats = new StatsCache(engine);
  const ctx: ServerContext = {
    engine,
    searchLimiter: new Limiter(options.searchConcurrency ?? DEFAULT_SEARCH_CONCURRENCY, options.maxQueuedSearches ?? 256, 'searches'),
    uploadLimiter: new Limiter(options.uploadConcurrency ?? 1, options.maxQueuedUploads ?? 8, 'image searches'),
    maxQueryImagePixels: options.maxQueryImagePixels ?? LIMITS.maxQueryImagePixels,
    thumbnails: new ThumbnailCache(
      options.thumbnailDir ?? (async () => path.join((await stats.get()).dataDir, 'thumbnails')),
      { concurrency: options.thumbnailConcurrency ?? 2 },
    ),
    sync: new SyncController(
      engine,
      () => {
        stats.invalidate();
        warmTimeline();
      },
      options.onSyncDone,
    ),
    stats,
    version,
    maxUploadBytes: options.maxUploadBytes ?? LIMITS.maxUploadBytes,
    maxSseClients: options.maxSseClients ?? 32,
    heartbeatMs: options.heartbeatMs ?? 15_000,
  };
  /** After a sync: the first screen of the timeline (newest photos) gets its thumbnails ahead of the first view. */
  let warming: Promise<unknown> = Promise.resolve();
  function warmTimeline(): void {
    warming = Promise.resolve()
      .then(() => engine.browse({ k: FIRST_SCREEN_THUMBNAILS }))
      .then((page) => ctx.thumbnails.warm(page.results.flatMap((r) => engine.getImage(r.id) ?? [])))
      .catch(() => undefined);
  }
  const corsOrigins = options.corsOrigins ?? [];
  const allowedHosts = options.allowedHosts ?? (options.token ? true : LOOPBACK_NAMES);

  const app = new Hono();

  app.onError((err, c) => {
    if (err instanceof HTTPException && !(err.status >= 500)) {
      const body: ErrorBody = { error: { code: `HTTP_${err.status}`, message: err.message || 'request refused' } };
      return c.json(body, err.status);
    }
    const { status, body } = errorResponse(err);
    if (status >= 500 && body.error.code === 'INTERNAL') options.onError?.(err);
    if (status === 503) c.header('Retry-After', '1');
    return c.json(body, status);
  });

  app.notFound((c) => {
    if (c.req.path.startsWith('/api/') || c.req.path === '/api') {
      return c.json({ error: { code: 'NOT_FOUND', message: `no route ${c.req.method} ${c.req.path}` } } satisfies ErrorBody, 404);
    }
    return c.text('Not found', 404);
  });

  app.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'blob:', 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
      // Plain HTTP on a LAN or loopback: HSTS would only get in the way.
      strictTransportSecurity: false,
      xFrameOptions: 'DENY',
      crossOriginResourcePolicy: corsOrigins.length > 0 ? 'cross-origin' : 'same-origin',
      permissionsPolicy: { camera: [], microphone: [], geolocation: [] },
      // Route handlers may set their own (stricter) CSP, e.g. for original images.
      overwrite: false,
    }),
  );
  app.use(hostCheck(allowedHosts));
  if (corsOrigins.length > 0) {
    app.use('/api/*', cors({ origin: [...corsOrigins], allowHeaders: ['Authorization', 'Content-Type'], allowMethods: ['GET', 'POST', 'OPTIONS'], maxAge: 600 }));
  }
  app.use(originCheck(corsOrigins));
  if (options.ownerSecret !== undefined && options.ownerSecret.length < 16) throw new RangeError('ownerSecret must be at least 16 characters');
  if (options.token !== undefined) {
    const problem = tokenProblem(options.token);
    if (problem) throw new RangeError(`token: ${problem}; a token must be ${TOKEN_RULE}`);
    const auth = tokenAuth(options.token);
    // The owner's CLI proves itself with the discovery file's secret instead.
    app.use((c, next) => (isOwner(c.req.header(OWNER_SECRET_HEADER), options.ownerSecret) ? next() : auth(c, next)));
  }

  const openapi = JSON.stringify(buildOpenApi(version));
  app.get('/api/openapi.json', (c) => c.body(openapi, 200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-cache' }));
  searchRoutes(app, ctx);
  imageRoutes(app, ctx);
  syncRoutes(app, ctx);
  zipRoutes(app, ctx);
  localRoutes(app, ctx, options.ownerSecret);
  pageRoutes(app, ctx);

  return Object.assign(app, {
    shutdown: async () => {
      await ctx.sync.shutdown();
      await warming;
      await ctx.thumbnails.close();
    },
    requestSync: (trigger: SyncTrigger = 'api', syncOptions?: SyncStartOptions) => ctx.sync.runQueued(trigger, syncOptions),
  });
}
