import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Hono } from 'hono';
import yazl from 'yazl';
import { openRegularFile } from '@pixsearch/core';
import type { ImageRecord } from '@pixsearch/core/engine';
import type { ServerContext } from '../context.js';
import { HttpError } from '../http-errors.js';
import { LIMITS, ZipQuerySchema } from '../schemas.js';
import { validate } from '../validation.js';

interface ZipEntry {
  rec: ImageRecord;
  name: string;
  size: number;
  mtime: Date;
}

/**
 * Names inside the archive: root-relative paths, prefixed with the root's folder name when the
 * images come from several roots; a clash gets ` (2)`, ` (3)`… before the extension.
 */
export function zipNames(recs: readonly Pick<ImageRecord, 'root' | 'path'>[]): string[] {
  const roots = new Set(recs.map((r) => r.root));
  const used = new Set<string>();
  return recs.map((r) => {
    const base = roots.size > 1 ? `${path.basename(r.root) || 'root'}/${r.path}` : r.path;
    let name = base;
    const dot = base.lastIndexOf('.');
    const stem = dot > base.lastIndexOf('/') + 1 ? base.slice(0, dot) : base;
    const ext = stem === base ? '' : base.slice(dot);
    for (let n = 2; used.has(name.toLowerCase()); n++) name = `${stem} (${n})${ext}`;
    used.add(name.toLowerCase());
    return name;
  });
}

/**
 * `GET /api/zip?ids=1,2,3`: the originals as one zip, streamed (stored, not recompressed:
 * photos do not deflate; ZIP64 when needed), with a Content-Length known up front. At most
 * {@link LIMITS.maxZipFiles} images and {@link LIMITS.maxZipBytes} bytes; files gone from disk
 * since the last sync are left out and named in `MISSING.txt` inside the archive. Reads one file
 * at a time.
 */
export function zipRoutes(app: Hono, ctx: ServerContext): void {
  app.get('/api/zip', validate('query', ZipQuerySchema), async (c) => {
    const { ids } = c.req.valid('query');
    const recs: ImageRecord[] = [];
    for (const id of ids) {
      const rec = ctx.engine.getImage(id);
      if (!rec || rec.status !== 'indexed') throw new HttpError(404, 'NOT_FOUND', `image ${id} not found`, { field: 'ids' });
      recs.push(rec);
    }
    const entries: ZipEntry[] = [];
    const missing: string[] = [];
    const names = zipNames(recs);
    let bytes = 0;
    for (let i = 0; i < recs.length; i++) {
      const rec = recs[i]!;
      try {
        const st = await stat(rec.absPath);
        if (!st.isFile()) throw new Error('not a file');
        bytes += st.size;
        entries.push({ rec, name: names[i]!, size: st.size, mtime: st.mtime });
      } catch {
        missing.push(names[i]!);
      }
    }
    if (bytes > LIMITS.maxZipBytes) {
      throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `the selected images hold ${bytes} bytes; a zip holds at most ${LIMITS.maxZipBytes}`, {
        field: 'ids',
        hint: 'select fewer images',
      });
    }
    if (entries.length === 0) throw new HttpError(404, 'NOT_FOUND', 'none of the selected files is on disk any more (run a sync)', { field: 'ids' });

    const zip = new yazl.ZipFile();
    for (const e of entries) {
      zip.addReadStreamLazy(e.name, { compress: false, size: e.size, mtime: e.mtime, mode: 0o100644 }, (cb) => {
        // Opened without blocking and checked to be a regular file (a FIFO swapped in since the stat
        // above would hang a libuv thread). An error here (the file vanished, was swapped or shrank
        // mid-way) aborts the archive: the download fails visibly.
        openRegularFile(e.rec.absPath).then(
          (fh) => cb(null, fh.createReadStream({ autoClose: true })),
          (err: Error) => cb(err, undefined as unknown as Readable),
        );
      });
    }
    if (missing.length > 0) {
      zip.addBuffer(Buffer.from(`These files were selected but are no longer on disk (run a sync):\n${missing.join('\n')}\n`), 'MISSING.txt', { compress: false });
    }
    // @types/yazl types the size callback without its argument.
    const end = zip.end.bind(zip) as unknown as (options: null, calculatedTotalSizeCallback: (size: number) => void) => void;
    const total = await new Promise<number>((resolve) => end(null, resolve));
    const out = zip.outputStream as Readable;
    // Errors of the read streams surface on the zip; end the response instead of crashing.
    zip.on('error', (err: Error) => out.destroy(err));
    c.header('Cache-Control', 'no-store');
    const filename = `pixsearch-${entries.length}-${entries.length === 1 ? 'image' : 'images'}.zip`;
    return c.body(Readable.toWeb(out) as ReadableStream<Uint8Array>, 200, {
      'Content-Type': 'application/zip',
      'Content-Disposition': `attachment; filename="${filename}"`,
      ...(total >= 0 ? { 'Content-Length': String(total) } : {}),
    });
  });
}
