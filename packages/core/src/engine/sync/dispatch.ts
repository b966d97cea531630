import type { CatalogRoot } from '../catalog.js';
import { PhaseProgress } from '../progress.js';
import { checkAbort, type Candidate, type SyncContext } from './context.js';
import { inspectAll } from './inspect-files.js';
import { settleInspected } from './resolve.js';
import type { SyncWriter } from './writer.js';

/** Reason of a row waiting for an embedding worker (status `failed`, so every scan hands it out again). */
export const QUEUED_REASON = 'queued';

/**
 * Phase 5 when the embedding happens elsewhere (`ctx.dispatch`: e.g. workers on other machines
 * claiming jobs from a queue). Files are inspected exactly as for local embedding (same skips and
 * reasons), content already stored is copied, and the rest is written as `failed` rows with reason
 * `queued` — committed in chunks. Then the ids of every queued row of the synced roots (these and
 * any left from an earlier scan) go to `ctx.dispatch`, which must tolerate ids it has seen before.
 */
export async function dispatchNew(
  ctx: SyncContext & { dispatch: (ids: number[]) => Promise<void> },
  writer: SyncWriter,
  toEmbed: readonly Candidate[][],
  deferred: readonly Candidate[],
  roots: readonly CatalogRoot[],
): Promise<void> {
  const files = [...toEmbed.flat(), ...deferred];
  const progress = new PhaseProgress('hash', files.length, ctx.progress);
  for (let start = 0; start < files.length; start += ctx.chunkSize) {
    checkAbort(ctx);
    const chunk = files.slice(start, start + ctx.chunkSize);
    // Groups of toEmbed are hashed already; inspection sniffs them again (cheap: the header only) for the same skips.
    const inspected = await inspectAll(chunk, ctx);
    for (const c of (await settleInspected(ctx, writer, inspected)).flat()) await writer.queue(c, QUEUED_REASON, 'waiting for an embedding worker');
    await writer.commit();
    progress.update(Math.min(start + chunk.length, files.length), chunk[chunk.length - 1]?.file.relPath);
  }
  progress.finish();
  const ids: number[] = [];
  for (const root of roots) {
    ctx.catalog.forEachFileState(root.id, (rows) => {
      for (const r of rows) if (r.status === 'failed' && r.reason === QUEUED_REASON) ids.push(r.id);
    });
  }
  if (ids.length > 0) await ctx.dispatch(ids);
}
