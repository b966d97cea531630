import type { Catalog, CatalogImage } from '../catalog.js';
import { checkAbort, type Candidate, type SyncContext } from './context.js';
import type { Inspection } from './inspect-files.js';
import type { KnownContent, SyncWriter } from './writer.js';

/** Hashed files split by content. */
export interface ContentGroups {
  /** Groups of files with the same content that no catalog row holds yet. */
  toEmbed: Candidate[][];
  /** Groups whose content a catalog row already holds (its embedding is reused). */
  reused: { group: Candidate[]; known: KnownContent }[];
}

/** Splits hashed files into groups of identical content: already stored (reuse) or to embed. */
export function groupByContent(catalog: Catalog, files: readonly Candidate[]): ContentGroups {
  const groups = new Map<string, Candidate[]>();
  for (const c of files) {
    const g = groups.get(c.hash!);
    if (g) g.push(c);
    else groups.set(c.hash!, [c]);
  }
  const toEmbed: Candidate[][] = [];
  const reused: ContentGroups['reused'] = [];
  for (const [hash, group] of groups) {
    const known = catalog.findByHash(hash);
    if (known) reused.push({ group, known });
    else toEmbed.push(group);
  }
  return { toEmbed, reused };
}

/**
 * Phase 4, resolve what the hashes tell: identical content → touched (stat refreshed) or moved (the
 * vanished row is relocated: same id, same embedding); content already stored elsewhere → its
 * embedding is copied; then the rows that vanished (and did not move) are deleted. Returns the
 * groups of new content left to embed.
 */
export async function resolveContent(ctx: SyncContext, writer: SyncWriter, hashed: readonly Candidate[], vanished: readonly CatalogImage[]): Promise<Candidate[][]> {
  const vanishedByHash = new Map<string, CatalogImage[]>();
  for (const v of vanished) {
    if (v.status !== 'indexed' || !v.hash) continue;
    const list = vanishedByHash.get(v.hash);
    if (list) list.push(v);
    else vanishedByHash.set(v.hash, [v]);
  }
  const movedIds = new Set<number>();
  const needContent: Candidate[] = [];
  for (const c of hashed) {
    const st = c.existing;
    if (st && st.hash === c.hash && st.status !== 'failed') {
      // Touched but identical: keep the embedding (or the recorded skip), refresh the stat.
      await writer.relocate(st.id, c);
      if (st.status === 'indexed') writer.summary.unchanged++;
      else writer.recordSkip(c.file.root, c.file.relPath, st.reason ?? 'skipped', st.message ?? '');
      continue;
    }
    if (!st) {
      const from = vanishedByHash.get(c.hash!)?.pop();
      if (from) {
        movedIds.add(from.id);
        await writer.relocate(from.id, c);
        writer.summary.moved++;
        continue;
      }
    }
    needContent.push(c);
  }
  await writer.commit();

  // Known content (copies, reverts, swaps) reuses stored embeddings; this must run before the
  // deletions below, which may remove the only row holding that content.
  const { toEmbed, reused } = groupByContent(ctx.catalog, needContent);
  for (const { group, known } of reused) await writer.copyEmbedding(group, known);
  await writer.commit();

  await removeVanished(writer, vanished, movedIds);
  checkAbort(ctx);
  return toEmbed;
}

/** Deletes the rows whose file vanished (except those relocated by a move). */
async function removeVanished(writer: SyncWriter, vanished: readonly CatalogImage[], movedIds: ReadonlySet<number>): Promise<void> {
  for (const v of vanished) {
    if (movedIds.has(v.id)) continue;
    await writer.push({ op: 'delete', id: v.id }, null, v.status === 'indexed');
    if (v.status === 'indexed') writer.summary.removed++;
  }
  await writer.commit();
}

/**
 * Settles an inspected chunk: writes the skipped files' rows and copies content already stored
 * (in an earlier chunk or elsewhere in the library); returns the groups of new content still to
 * embed (one group per content hash).
 */
export async function settleInspected(ctx: SyncContext, writer: SyncWriter, inspected: readonly Inspection[]): Promise<Candidate[][]> {
  const fresh: Candidate[] = [];
  for (const r of inspected) {
    if (r.reason) await writer.skipFile(r.c, r.reason, r.message, Infinity);
    else fresh.push(r.c);
  }
  const grouped = groupByContent(ctx.catalog, fresh);
  for (const { group, known } of grouped.reused) await writer.copyEmbedding(group, known, Infinity);
  return grouped.toEmbed;
}
