import { PhaseProgress } from '../progress.js';
import type { Classification } from './classify.js';
import { checkAbort, type Candidate, type SyncContext } from './context.js';
import { inspectAll } from './inspect-files.js';
import type { SyncWriter } from './writer.js';

/** Files per hashing step of the hash phase (between abort checks and progress events). */
const HASH_BATCH = 32;

/** Candidates after the hash phase. */
export interface Hashed {
  /** Hashed now (changed files, and new files when a move is possible). */
  hashed: Candidate[];
  /** New files hashed later, chunk by chunk, right before they are embedded. */
  deferred: Candidate[];
}

/**
 * Phase 3, hash. Changed files must be hashed now (a touched file is not re-embedded), and so must
 * new files when some indexed file vanished (it may have moved). Other new files are hashed chunk by
 * chunk right before they are embedded: the first embedding starts at once and the decoder reads
 * each file from the page cache instead of the disk a second time. Unreadable or unsupported files
 * are written as skipped.
 */
export async function hashChanged(ctx: SyncContext, writer: SyncWriter, { candidates, vanished }: Classification): Promise<Hashed> {
  const movesPossible = vanished.some((v) => v.status === 'indexed' && v.hash);
  const eager = candidates.filter((c) => c.existing !== undefined || movesPossible);
  const deferred = candidates.filter((c) => !(c.existing !== undefined || movesPossible));
  const hashed: Candidate[] = [];
  const hashing = new PhaseProgress('hash', eager.length, ctx.progress);
  let hashDone = 0;
  for (let start = 0; start < eager.length; start += HASH_BATCH) {
    checkAbort(ctx);
    const slice = eager.slice(start, start + HASH_BATCH);
    for (const r of await inspectAll(slice, ctx)) {
      if (r.reason) await writer.skipFile(r.c, r.reason, r.message);
      else hashed.push(r.c);
    }
    hashDone += slice.length;
    hashing.update(hashDone, slice[slice.length - 1]?.file.relPath);
  }
  hashing.finish();
  await writer.commit();
  checkAbort(ctx);
  return { hashed, deferred };
}
