import type { CatalogImage, CatalogRoot } from '../catalog.js';
import { checkAbort, type Candidate, type Found, type SyncContext } from './context.js';
import type { MetadataBackfill } from './metadata.js';
import type { ScanResult } from './scan.js';
import type { SyncWriter } from './writer.js';

/** The scan compared with the catalog. */
export interface Classification {
  /** Files that must be read: new, changed, or failed before. */
  candidates: Candidate[];
  /** Catalog rows whose file was not seen (not counting folders that could not be read). */
  vanished: CatalogImage[];
  /** Unchanged indexed rows whose metadata was never read (backfilled without re-embedding). */
  needMetadata: MetadataBackfill[];
}

const posixPrefixCovers = (prefixes: readonly string[], rel: string): boolean => prefixes.some((p) => p === '' || rel.startsWith(p));

const NON_FILE_MESSAGES: Record<string, string> = {
  'broken-symlink': 'symbolic link to a missing file',
  'not-a-file': 'not a regular file (device, FIFO or socket)',
  'invalid-file-name': 'the file name is not valid UTF-8; rename the file to index it',
};

/**
 * Phase 2, classify against the catalog: same size and mtime → unchanged (not read); otherwise a
 * candidate. Catalog rows not seen → vanished (kept when their folder could not be read). Entries
 * that are not files are recorded as skipped.
 */
export async function classify(ctx: SyncContext, writer: SyncWriter, roots: readonly CatalogRoot[], scan: ScanResult): Promise<Classification> {
  const candidates: Candidate[] = [];
  const vanished: CatalogImage[] = [];
  const needMetadata: MetadataBackfill[] = [];
  const byRoot = new Map<number, Found[]>();
  for (const f of scan.found) {
    const list = byRoot.get(f.root.id);
    if (list) list.push(f);
    else byRoot.set(f.root.id, [f]);
  }
  for (const root of roots) {
    const existing = new Map<string, CatalogImage>();
    ctx.catalog.forEachFileState(root.id, (rows) => {
      for (const r of rows) existing.set(r.relPath, r);
    });
    for (const f of byRoot.get(root.id) ?? []) {
      const st = existing.get(f.relPath);
      existing.delete(f.relPath);
      const sameStat = st !== undefined && st.size === f.size && st.mtimeMs === f.mtimeMs;
      const nonFileReason = f.kind === 'broken-symlink' ? 'broken-symlink' : f.kind === 'not-a-file' ? 'not-a-file' : !f.validName ? 'invalid-file-name' : undefined;
      if (nonFileReason) {
        const message = NON_FILE_MESSAGES[nonFileReason]!;
        if (st && sameStat && st.status === 'skipped' && st.reason === nonFileReason) writer.recordSkip(root, f.relPath, nonFileReason, message);
        else await writer.skipFile({ file: f, existing: st }, nonFileReason, message);
        continue;
      }
      if (st && sameStat && st.status !== 'failed') {
        if (st.status === 'indexed') {
          writer.summary.unchanged++;
          if (st.meta === null) needMetadata.push({ id: st.id, file: f });
        } else writer.recordSkip(root, f.relPath, st.reason ?? 'skipped', st.message ?? '');
        continue;
      }
      candidates.push({ file: f, existing: st });
    }
    const keep = scan.unreadable.get(root.id) ?? [];
    for (const st of existing.values()) {
      if (!posixPrefixCovers(keep, st.relPath)) vanished.push(st);
    }
  }
  await writer.commit();
  checkAbort(ctx);
  return { candidates, vanished, needMetadata };
}
