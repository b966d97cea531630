import { open } from 'node:fs/promises';
import { METADATA_HEAD_BYTES, readMetadata } from '../metadata.js';
import { PhaseProgress } from '../progress.js';
import { checkAbort, type Found, type SyncContext } from './context.js';
import type { SyncWriter } from './writer.js';

/** Files read at once while backfilling. */
const CONCURRENCY = 4;
/** Files per step (between abort checks, progress events and commits). */
const STEP = 64;

/** An indexed row whose metadata was never read, and its file. */
export interface MetadataBackfill {
  id: number;
  file: Found;
}

/**
 * Phase "metadata": reads the metadata of unchanged indexed images that have none yet (a library
 * indexed before metadata existed), from each file's first {@link METADATA_HEAD_BYTES} only — no
 * hashing, no decoding, no re-embedding. A file that cannot be read keeps no metadata (retried next sync).
 */
export async function backfillMetadata(ctx: SyncContext, writer: SyncWriter, rows: readonly MetadataBackfill[]): Promise<void> {
  if (rows.length === 0) return;
  const progress = new PhaseProgress('metadata', rows.length, ctx.progress);
  const buf = Array.from({ length: CONCURRENCY }, () => Buffer.allocUnsafe(METADATA_HEAD_BYTES));
  for (let start = 0; start < rows.length; start += STEP) {
    checkAbort(ctx);
    const slice = rows.slice(start, start + STEP);
    let next = 0;
    const worker = async (w: number): Promise<void> => {
      while (next < slice.length) {
        const row = slice[next++]!;
        let head: Buffer;
        try {
          const fh = await open(row.file.absPath, 'r');
          try {
            const { bytesRead } = await fh.read(buf[w]!, 0, METADATA_HEAD_BYTES, 0);
            head = buf[w]!.subarray(0, bytesRead);
          } finally {
            await fh.close();
          }
        } catch {
          continue;
        }
        const meta = await readMetadata(head, row.file.mtimeMs);
        await writer.push({ op: 'metadata', id: row.id, meta }, null, false, Infinity);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, slice.length) }, (_, w) => worker(w)));
    await writer.commit();
    progress.update(start + slice.length, slice[slice.length - 1]?.file.relPath);
  }
  progress.finish();
}
