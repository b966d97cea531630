import { AbortedError } from '../errors.js';
import type { CatalogRoot } from './catalog.js';
import { classify } from './sync/classify.js';
import type { SyncContext } from './sync/context.js';
import { dispatchNew } from './sync/dispatch.js';
import { embedNew } from './sync/embed.js';
import { hashChanged } from './sync/hash.js';
import { backfillMetadata } from './sync/metadata.js';
import { resolveContent } from './sync/resolve.js';
import { scanRoots } from './sync/scan.js';
import { SyncWriter } from './sync/writer.js';
import type { SkippedFile, SyncSummary } from './types.js';

export type { SyncContext };

/**
 * One incremental sync of `roots`, phase by phase (each in its own module under `sync/`, all
 * writing through one `SyncWriter`):
 * 1. scan (`scanRoots`): walk the roots (stat only);
 * 2. classify (`classify`) against the catalog: same size and mtime → unchanged (not read);
 *    otherwise a candidate; catalog rows not seen → vanished (kept when their folder could not be read);
 * 3. hash (`hashChanged`) changed files (and new ones when something vanished);
 * 4. resolve (`resolveContent`): identical content → touched (stat refreshed) or moved (the vanished
 *    row is relocated: same id, same embedding); content already stored elsewhere → its embedding is
 *    copied; vanished rows are deleted;
 * 4b. metadata (`backfillMetadata`): unchanged images indexed before metadata existed get it from
 *    their first bytes (no re-embedding);
 * 5. embed (`embedNew`) the rest in chunks (new files are hashed just before, overlapping the
 *    previous chunk's inference), each chunk committed in one transaction, then mirrored into the index;
 *    or, with `ctx.dispatch` (a scaled-out library), write them as `queued` rows and hand their ids
 *    to embedding workers on other machines (`dispatchNew`).
 * Bad files become skipped/failed rows with a reason. An abort (signal) ends between steps with
 * everything committed so far kept, and `aborted: true`.
 */
export async function runSync(ctx: SyncContext, roots: readonly CatalogRoot[]): Promise<SyncSummary> {
  const started = performance.now();
  const { catalog, store } = ctx;
  const writer = new SyncWriter(catalog, store, ctx.warn);
  const summary = writer.summary;
  try {
    const scan = await scanRoots(ctx, roots);
    const classified = await classify(ctx, writer, roots, scan);
    const { hashed, deferred } = await hashChanged(ctx, writer, classified);
    const toEmbed = await resolveContent(ctx, writer, hashed, classified.vanished);
    await backfillMetadata(ctx, writer, classified.needMetadata);
    const { dispatch } = ctx;
    if (dispatch) await dispatchNew({ ...ctx, dispatch }, writer, toEmbed, deferred, roots);
    else await embedNew(ctx, writer, toEmbed, deferred);
  } catch (err) {
    if (!(err instanceof AbortedError)) {
      await writer.commit().catch(() => undefined);
      await store.save().catch(() => undefined);
      throw err;
    }
    summary.aborted = true;
  }
  // Anything queued is consistent on its own: keep it.
  await writer.commit();
  await store.save();
  if (!summary.aborted) catalog.updateSettings({ lastSync: new Date().toISOString() });
  summary.durationMs = performance.now() - started;
  const files = summary.added + summary.updated + summary.moved + summary.unchanged + summary.skipped;
  ctx.progress({ phase: 'done', done: files, total: files, rate: files / Math.max(summary.durationMs / 1000, 1e-3), etaSeconds: 0 });
  return summary;
}

export type { SkippedFile };
