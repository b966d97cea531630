import { createHash } from 'node:crypto';
import { access, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ImageDecodeError, isRawFileName, NotFoundError, openRegularFile, writeFileAtomic } from '@pixsearch/core';
import { sniffImage, type ImageRecord } from '@pixsearch/core/engine';
import { Limiter } from './limiter.js';
import type Sharp from 'sharp';

/** Options for {@link ThumbnailCache}. */
export interface ThumbnailCacheOptions {
  /** Thumbnails generated at once (sharp work on the libuv pool), ≥ 1 (default 2). */
  concurrency?: number;
  /** Generations allowed to wait (default 1000). */
  maxQueue?: number;
  /** WebP quality, 1..100 (default 78). */
  quality?: number;
  /** Ahead-of-view generations allowed to wait (see {@link ThumbnailCache.warm}; default 256). */
  maxWarmQueue?: number;
}

/** Per-call options of {@link ThumbnailCache.get}. */
export interface RenditionOptions {
  /** WebP quality, 1..100 (default: the cache's). */
  quality?: number;
}

/**
 * Thumbnails below this size are made from the cached rendition of this size when there is one
 * (a cheap resize of a small WebP instead of decoding the original again).
 */
export const BASE_THUMBNAIL_SIZE = 512;

/** Image ids {@link ThumbnailCache.warmIds} remembers (a few MB at most). */
export const WARM_MEMORY = 20_000;

/** A thumbnail, ready to send. */
export interface Thumbnail {
  bytes: Buffer;
  /** Always `image/webp`. */
  mime: string;
  /** Strong ETag (content version + size). */
  etag: string;
}

type SharpFactory = typeof Sharp;

/**
 * Version of an image's content for cache keys and ETags: the catalog's content hash when it is
 * a hex digest, else a digest of path, size and mtime.
 */
export function contentVersion(record: Pick<ImageRecord, 'hash' | 'absPath' | 'size' | 'mtimeMs'>): string {
  if (/^[0-9a-f]{16,128}$/i.test(record.hash)) return record.hash.slice(0, 32).toLowerCase();
  return createHash('sha256').update(`${record.absPath}\0${record.size}\0${record.mtimeMs}`).digest('hex').slice(0, 32);
}

/**
 * Thumbnails and display renditions (WebP, longest side = size, never enlarged, EXIF orientation
 * applied) cached on disk under `dir/<size>/<xx>/<version>.webp`: generated once per content
 * version and size, written atomically; concurrent requests for the same rendition share one
 * generation. Identical files (same hash) share a thumbnail. Sizes below
 * {@link BASE_THUMBNAIL_SIZE} are derived from that size when it is cached or being made;
 * {@link warm} makes them ahead of the first view. Owns no handles; `close()` waits for work under way.
 */
export class ThumbnailCache {
  readonly #dir: () => Promise<string>;
  readonly #inflight = new Map<string, Promise<Buffer>>();
  readonly #limiter: Limiter;
  readonly #quality: number;
  readonly #maxWarmQueue: number;
  #warmQueued = 0;
  /** `size:id` of images handed to {@link warmIds} recently, oldest first (at most {@link WARM_MEMORY} entries). */
  readonly #warmedIds = new Set<string>();
  #closed = false;
  #sharp: Promise<SharpFactory> | undefined;
  /** Renditions generated from originals by this instance (not served from disk). */
  generated = 0;
  /** Thumbnails made from a cached larger one by this instance. */
  derived = 0;

  /** `dir`: the cache folder, or a function resolving it on first use (called once). */
  constructor(dir: string | (() => Promise<string>), options: ThumbnailCacheOptions = {}) {
    let resolved: Promise<string> | undefined;
    this.#dir = typeof dir === 'string' ? () => Promise.resolve(dir) : () => (resolved ??= dir());
    this.#limiter = new Limiter(options.concurrency ?? 2, options.maxQueue ?? 1000, 'thumbnails');
    this.#quality = options.quality ?? 78;
    this.#maxWarmQueue = options.maxWarmQueue ?? 256;
  }

  /** The rendition of `record` at `size` pixels (longest side), from disk or generated now. */
  async get(record: ImageRecord, size: number, options: RenditionOptions = {}): Promise<Thumbnail> {
    const version = contentVersion(record);
    const etag = `"t${size}-${version}"`;
    const file = await this.#file(version, size);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      bytes = await this.#make(record, size, file, options.quality ?? this.#quality);
    }
    return { bytes, mime: 'image/webp', etag };
  }

  /**
   * Starts making the renditions of `records` at `size` that are not cached yet, in the
   * background, at most `concurrency` at once (shared with {@link get}); requests for them
   * meanwhile wait for that work instead of starting their own. When more than `maxWarmQueue`
   * are waiting the rest are left for the first view. Never throws; failures are left for
   * {@link get} to report.
   */
  warm(records: readonly ImageRecord[], size = BASE_THUMBNAIL_SIZE): void {
    if (this.#closed) return;
    for (const record of records) {
      if (this.#warmQueued >= this.#maxWarmQueue) return;
      this.#warmQueued++;
      void (async () => {
        try {
          const file = await this.#file(contentVersion(record), size);
          if (this.#inflight.has(file) || (await exists(file))) return;
          await this.#make(record, size, file, this.#quality);
        } catch {
          // reported when the thumbnail is requested
        } finally {
          this.#warmQueued--;
        }
      })();
    }
  }

  /**
   * {@link warm} for catalog ids, as a search answers them: an id handed here within the last
   * {@link WARM_MEMORY} ids is skipped without a catalog lookup or a file-system call (its
   * thumbnail was made, found on disk, or could not be made; a changed image is made on first
   * view instead). Keeps repeated and overlapping result pages — search as you type — from
   * costing 30 lookups and stats each.
   */
  warmIds(ids: readonly number[], lookup: (id: number) => ImageRecord | undefined, size = BASE_THUMBNAIL_SIZE): void {
    if (this.#closed) return;
    const fresh: ImageRecord[] = [];
    for (const id of ids) {
      const key = `${size}:${id}`;
      if (this.#warmedIds.has(key)) continue;
      if (this.#warmQueued + fresh.length >= this.#maxWarmQueue) break; // not remembered: warmed by a later search
      this.#warmedIds.add(key);
      if (this.#warmedIds.size > WARM_MEMORY) this.#warmedIds.delete(this.#warmedIds.values().next().value!);
      const record = lookup(id);
      if (record) fresh.push(record);
    }
    this.warm(fresh, size);
  }

  /** Stops making thumbnails ahead of view and waits for every generation under way (so their files are written). */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#inflight.size > 0 || this.#warmQueued > 0) {
      await Promise.allSettled([...this.#inflight.values()]);
      if (this.#inflight.size === 0 && this.#warmQueued > 0) await new Promise((r) => setImmediate(r));
    }
  }

  async #file(version: string, size: number): Promise<string> {
    return path.join(await this.#dir(), String(size), version.slice(0, 2), `${version}.webp`);
  }

  /** One generation per file at a time; later callers share it. */
  #make(record: ImageRecord, size: number, file: string, quality: number): Promise<Buffer> {
    let pending = this.#inflight.get(file);
    if (!pending) {
      pending = this.#fromBase(record, size, quality)
        .then((base) => base ?? this.#limiter.run(() => this.#generate(record, size, file, quality)))
        .then(async (bytes) => {
          if (this.#inflight.get(file) === pending && !(await exists(file))) {
            await mkdir(path.dirname(file), { recursive: true });
            await writeFileAtomic(file, bytes);
          }
          return bytes;
        })
        .finally(() => this.#inflight.delete(file));
      this.#inflight.set(file, pending);
    }
    return pending;
  }

  /** A smaller thumbnail made from the cached (or in-flight) base size, or undefined when there is none. */
  async #fromBase(record: ImageRecord, size: number, quality: number): Promise<Buffer | undefined> {
    if (size >= BASE_THUMBNAIL_SIZE) return undefined;
    const baseFile = await this.#file(contentVersion(record), BASE_THUMBNAIL_SIZE);
    let base: Buffer;
    const inflight = this.#inflight.get(baseFile);
    try {
      base = inflight ? await inflight : await readFile(baseFile);
    } catch {
      return undefined;
    }
    const sharp = await this.#loadSharp();
    try {
      const bytes = await this.#limiter.run(() =>
        sharp(base, { failOn: 'none' }).resize({ width: size, height: size, fit: 'inside', withoutEnlargement: true }).webp({ quality, effort: 2 }).toBuffer(),
      );
      this.derived++;
      return bytes;
    } catch {
      return undefined;
    }
  }

  #loadSharp(): Promise<SharpFactory> {
    this.#sharp ??= import('sharp').then((m) => m.default);
    return this.#sharp;
  }

  async #generate(record: ImageRecord, size: number, file: string, quality: number): Promise<Buffer> {
    // Another request may have finished it while this one queued.
    try {
      return await readFile(file);
    } catch {
      // generate below
    }
    const sharp = await this.#loadSharp();
    // Read through a checked handle: sharp(path) on a FIFO or device swapped in for the image
    // would block a thread of libuv's pool for good.
    let input: Buffer;
    try {
      const fh = await openRegularFile(record.absPath);
      try {
        input = await fh.readFile();
      } finally {
        await fh.close();
      }
    } catch {
      throw new NotFoundError(`the file of image ${record.id} (it changed on disk; run a sync)`);
    }
    let bytes: Buffer;
    try {
      const resize = { width: size, height: size, fit: 'inside', withoutEnlargement: true } as const;
      if (needsCoreDecoder(record.absPath, input)) {
        // HEIC (HEVC, which sharp's libvips cannot decode) and camera RAW previews: the embedder's
        // decoder (libheif WebAssembly, the RAW preview walker) with orientation applied.
        const { decodeImage } = await import('@pixsearch/core/clip');
        const img = await decodeImage(isRawFileName(record.absPath) ? record.absPath : input, { limitInputPixels: 268_402_689 });
        bytes = await sharp(Buffer.from(img.rgb.buffer, img.rgb.byteOffset, img.rgb.byteLength), { raw: { width: img.width, height: img.height, channels: 3 } })
          .resize(resize)
          .webp({ quality, effort: 2 })
          .toBuffer();
      } else {
        bytes = await sharp(input, { failOn: 'none', limitInputPixels: 268_402_689 }).rotate().resize(resize).webp({ quality, effort: 2 }).toBuffer();
      }
    } catch (err) {
      // libvips' text is not passed on: its error buffer is shared by every decode in the process
      // (it can name another file) and means little to a user. The cause keeps it for logs.
      throw new ImageDecodeError(`image ${record.id}`, 'undecodable', 'cannot make a thumbnail: the image data cannot be decoded (damaged, or changed on disk; run a sync)', { cause: err });
    }
    this.generated++;
    return bytes;
  }
}

/** HEIC/HEIF content (not AVIF, which sharp decodes) or a camera RAW file. */
function needsCoreDecoder(file: string, bytes: Uint8Array): boolean {
  if (isRawFileName(file)) return true;
  return sniffImage(bytes.subarray(0, 4096)).format === 'heic';
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
