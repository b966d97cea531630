import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Context, Hono } from 'hono';
import { openRegularFile } from '@pixsearch/core';
import { mimeForFormat, sniffImage, type ImageRecord } from '@pixsearch/core/engine';
import type { ServerContext } from '../context.js';
import { HttpError } from '../http-errors.js';
import { IdParamSchema, LIMITS, OriginalQuerySchema, ThumbnailQuerySchema } from '../schemas.js';
import { contentVersion } from '../thumbnails.js';
import { validate } from '../validation.js';

/** Bytes read from an original to check its magic bytes before serving it. */
const HEAD_BYTES = 64;

/** Browsers revalidate with the ETag on every use: a re-synced image never shows stale. */
const CACHE_CONTROL = 'private, no-cache';

/** True when an `If-None-Match` header lists `etag` (or `*`); weak comparison. */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const bare = etag.replace(/^W\//, '');
  return header.split(',').some((t) => {
    const v = t.trim();
    return v === '*' || v.replace(/^W\//, '') === bare;
  });
}

function indexedImage(ctx: ServerContext, id: number): ImageRecord {
  const rec = ctx.engine.getImage(id);
  if (!rec || rec.status !== 'indexed') throw new HttpError(404, 'NOT_FOUND', `image ${id} not found`);
  return rec;
}

/** A `Content-Disposition` value naming the last segment of `relPath` (ASCII fallback + RFC 5987 UTF-8 name). */
export function contentDisposition(relPath: string, kind: 'inline' | 'attachment' = 'inline'): string {
  const name = relPath.split('/').pop() || 'image';
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

async function sendOriginal(c: Context, rec: ImageRecord, download = false): Promise<Response> {
  let fh: FileHandle;
  try {
    // The path comes from the catalog (written by sync), never from the request. A FIFO or device
    // swapped in for the image is refused at once (a plain open would wait for a writer forever).
    fh = await openRegularFile(rec.absPath);
  } catch {
    throw new HttpError(404, 'NOT_FOUND', `the file of image ${rec.id} is gone (run a sync)`);
  }
  let handedOver = false;
  try {
    const st = await fh.stat();
    const etag = `"${rec.id.toString(36)}-${st.size.toString(36)}-${Math.trunc(st.mtimeMs).toString(36)}"`;
    const headers: Record<string, string> = {
      ETag: etag,
      'Last-Modified': st.mtime.toUTCString(),
      'Cache-Control': CACHE_CONTROL,
    };
    if (etagMatches(c.req.header('if-none-match'), etag)) return c.body(null, 304, headers);
    const head = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(head, 0, HEAD_BYTES, 0);
    // Magic bytes only: SVG is text, recognised below from the catalog when the file is unchanged.
    const { format } = sniffImage(head.subarray(0, bytesRead));
    const sniffed = format !== 'unknown' && format !== 'svg' ? { mime: mimeForFormat(format) ?? 'application/octet-stream' } : undefined;
    const catalogMime = mimeForFormat(rec.format);
    // Serve only what the catalog indexed: a file swapped for something else since the last sync
    // (another type, or a changed SVG, which has no magic bytes) is not served.
    const unchanged = st.size === rec.size && Math.trunc(st.mtimeMs) === Math.trunc(rec.mtimeMs);
    if (!sniffed && !(catalogMime === 'image/svg+xml' && unchanged)) {
      throw new HttpError(404, 'NOT_FOUND', `the file of image ${rec.id} is no longer the image that was indexed (run a sync)`);
    }
    Object.assign(headers, {
      'Content-Type': sniffed?.mime ?? catalogMime ?? 'application/octet-stream',
      'Content-Length': String(st.size),
      'Content-Disposition': contentDisposition(rec.path, download ? 'attachment' : 'inline'),
      // An SVG opened directly must not run scripts on this origin.
      'Content-Security-Policy': "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox",
    });
    if (c.req.method === 'HEAD' || st.size === 0) return c.body(null, 200, headers);
    const stream = fh.createReadStream({ start: 0, end: st.size - 1, autoClose: true });
    handedOver = true;
    return c.body(Readable.toWeb(stream) as ReadableStream<Uint8Array>, 200, headers);
  } finally {
    if (!handedOver) await fh.close();
  }
}

/** The catalog row of an image as `/api/images/:id/info` returns it (extra metadata fields pass through). */
export function imageInfo(rec: ImageRecord): Record<string, unknown> {
  const { status: _status, reason: _reason, mtimeMs, ...rest } = rec;
  const slash = rec.path.lastIndexOf('/');
  return {
    ...rest,
    folder: slash >= 0 ? rec.path.slice(0, slash) : '',
    mtime: new Date(mtimeMs).toISOString(),
    imageUrl: `/api/images/${rec.id}`,
    displayUrl: `/api/images/${rec.id}/display`,
    downloadUrl: `/api/images/${rec.id}?download=1`,
  };
}

/**
 * `GET /api/images/:id` (the original; `?download=1` as an attachment), `/thumbnail`, `/display`
 * (a WebP rendition ≤ {@link LIMITS.displaySize} px, cached like thumbnails, so TIFF, HEIC and RAW
 * show in any browser) and `/info` (the catalog row).
 */
export function imageRoutes(app: Hono, ctx: ServerContext): void {
  app.get('/api/images/:id', validate('param', IdParamSchema), validate('query', OriginalQuerySchema), async (c) => {
    const d = c.req.valid('query').download;
    return sendOriginal(c, indexedImage(ctx, c.req.valid('param').id), d === '1' || d === 'true');
  });

  app.get('/api/images/:id/info', validate('param', IdParamSchema), (c) => {
    c.header('Cache-Control', 'no-store');
    return c.json(imageInfo(indexedImage(ctx, c.req.valid('param').id)));
  });

  app.get('/api/images/:id/display', validate('param', IdParamSchema), async (c) => {
    const rec = indexedImage(ctx, c.req.valid('param').id);
    const size = LIMITS.displaySize;
    const etag = `"t${size}-${contentVersion(rec)}"`;
    const headers = { ETag: etag, 'Cache-Control': CACHE_CONTROL };
    if (etagMatches(c.req.header('if-none-match'), etag)) return c.body(null, 304, headers);
    const img = await ctx.thumbnails.get(rec, size, { quality: 82 });
    return c.body(new Uint8Array(img.bytes), 200, { ...headers, 'Content-Type': img.mime, 'Content-Length': String(img.bytes.length) });
  });

  app.get('/api/images/:id/thumbnail', validate('param', IdParamSchema), validate('query', ThumbnailQuerySchema), async (c) => {
    const rec = indexedImage(ctx, c.req.valid('param').id);
    const q = c.req.valid('query');
    const size = q.size === undefined ? LIMITS.defaultThumbnailSize : Number(q.size);
    const etag = `"t${size}-${contentVersion(rec)}"`;
    const headers = { ETag: etag, 'Cache-Control': CACHE_CONTROL };
    if (etagMatches(c.req.header('if-none-match'), etag)) return c.body(null, 304, headers);
    const thumb = await ctx.thumbnails.get(rec, size);
    return c.body(new Uint8Array(thumb.bytes), 200, { ...headers, 'Content-Type': thumb.mime, 'Content-Length': String(thumb.bytes.length) });
  });
}
