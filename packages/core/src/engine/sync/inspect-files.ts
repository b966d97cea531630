import path from 'node:path';
import { RAW_EXTENSIONS, UNSUPPORTED_RAW_EXTENSIONS } from '../../clip/raw-preview.js';
import { NotAFileError } from '../../errors.js';
import { inspectFile } from '../inspect.js';
import { METADATA_HEAD_BYTES, readMetadata } from '../metadata.js';
import { DECODABLE_FORMATS } from '../sniff.js';
import type { Candidate, SyncContext } from './context.js';

/** Files read concurrently while hashing. */
const HASH_CONCURRENCY = 4;

const UNSUPPORTED_MESSAGES: Record<string, string> = {
  bmp: 'BMP images are not supported by sharp; convert them to PNG to index them',
  jxl: 'JPEG XL images are not supported by the prebuilt sharp binaries; convert them to JPEG or PNG to index them',
};

/** A hashed and sniffed file, or why it is skipped (`reason`). */
export interface Inspection {
  c: Candidate;
  reason?: string;
  message: string;
}

/** Hashes and sniffs files (a few at a time); sets `hash`/`format`, or says why a file is skipped. */
export async function inspectAll(files: readonly Candidate[], ctx: SyncContext): Promise<Inspection[]> {
  return mapLimit(files, HASH_CONCURRENCY, async (c): Promise<Inspection> => {
    if (c.file.size === 0) return { c, reason: 'empty', message: 'the file is empty (0 bytes)' };
    if (c.file.size > ctx.maxFileBytes) {
      return { c, reason: 'too-large', message: `the file has ${c.file.size} bytes, more than the limit of ${ctx.maxFileBytes}` };
    }
    try {
      const info = await inspectFile(c.file.absPath);
      c.hash = info.hash;
      c.format = info.sniffed.format;
      const { format, width, height } = info.sniffed;
      // Emptied since the scan saw it.
      if (info.bytes === 0) return { c, reason: 'empty', message: 'the file is empty (0 bytes)' };
      // Camera RAWs: their embedded JPEG preview is decoded (a file without one is skipped as
      // `no-preview` by the decoder); RAW+JPEG pairs are both indexed, as the files they are.
      const ext = path.extname(c.file.relPath).slice(1).toLowerCase();
      if (RAW_EXTENSIONS.has(ext)) {
        c.format = ext;
        return { c, message: '' };
      }
      if (UNSUPPORTED_RAW_EXTENSIONS.has(ext)) {
        return { c, reason: 'unsupported-format', message: `${ext.toUpperCase()} RAW files are not supported (no preview container pixsearch reads); export a JPEG to index the shot` };
      }
      if (format === 'unknown') return { c, reason: 'not-an-image', message: 'the content is not a recognised image format' };
      if (!DECODABLE_FORMATS.has(format)) {
        return { c, reason: 'unsupported-format', message: UNSUPPORTED_MESSAGES[format] ?? `${format} images are not supported` };
      }
      if (width !== undefined && height !== undefined) {
        if (width === 0 || height === 0) return { c, reason: 'corrupt', message: `the header declares an empty ${width}×${height} image` };
        if (width * height > ctx.maxPixels) {
          return { c, reason: 'too-large', message: `${width}×${height} pixels exceeds the limit of ${ctx.maxPixels} (decompression bomb guard)` };
        }
      }
      // EXIF from the bytes already read for the hash: no second read, no pixel decoding.
      c.meta = await readMetadata(info.head.subarray(0, METADATA_HEAD_BYTES), c.file.mtimeMs);
      return { c, message: '' };
    } catch (err) {
      // Swapped for a FIFO, device or folder since the scan saw it.
      if (err instanceof NotAFileError) return { c, reason: 'not-a-file', message: `not a regular file (${err.kind})` };
      return { c, reason: 'unreadable', message: `cannot read the file: ${(err as Error).message}` };
    }
  });
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
