import type { CatalogRoot } from '../catalog.js';
import { PhaseProgress } from '../progress.js';
import { walkRoot } from '../walk.js';
import { checkAbort, type Found, type SyncContext } from './context.js';

/** What the scan saw: the files, and per root the folders that could not be read. */
export interface ScanResult {
  found: Found[];
  /** Root id → relative folder prefixes that could not be read (their rows are kept). */
  unreadable: Map<number, string[]>;
}

/** Phase 1, scan: walks the roots (stat only, no file is read). */
export async function scanRoots(ctx: SyncContext, roots: readonly CatalogRoot[]): Promise<ScanResult> {
  const visited = new Set<string>();
  const found: Found[] = [];
  const unreadable = new Map<number, string[]>();
  const scan = new PhaseProgress('scan', undefined, ctx.progress);
  for (const root of roots) {
    const base = found.length;
    const res = await walkRoot(root.path, {
      ignore: ctx.ignore,
      visited,
      exclude: ctx.exclude,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      onFile: (n) => scan.update(base + n),
    });
    for (const w of res.warnings) ctx.warn(w);
    unreadable.set(root.id, res.unreadable);
    for (const e of res.entries) found.push({ ...e, root });
    scan.update(found.length);
  }
  scan.update(found.length, undefined, true);
  checkAbort(ctx);
  return { found, unreadable };
}
