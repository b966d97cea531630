// Exact copies (same content hash) and near-duplicates (stored embeddings within a cosine
// threshold, found through the vector index) — without re-embedding, never touching files.
import { AbortedError, InvalidArgumentError } from '../errors.js';
import type { Catalog, CatalogFilter, CatalogImage } from './catalog.js';
import { toInfo } from './image-info.js';
import type { IndexStore } from './index-store.js';
import type { DuplicateGroup, DuplicateMember, DuplicateReport } from './types.js';

/**
 * Default near-duplicate threshold (cosine similarity). Chosen from measurements of resized,
 * re-encoded and slightly cropped copies (see the package README, "Near-duplicates").
 */
export const DEFAULT_DUPLICATE_THRESHOLD = 0.97;
/** Default neighbours per image. */
export const DEFAULT_DUPLICATE_NEIGHBORS = 10;
/** Queries per batched index call. */
const BATCH = 1024;

class UnionFind {
  private readonly parent = new Map<number, number>();
  find(x: number): number {
    let root = x;
    for (let p = this.parent.get(root); p !== undefined && p !== root; p = this.parent.get(root)) root = p;
    // Path compression.
    let cur = x;
    while (cur !== root) {
      const next = this.parent.get(cur) ?? root;
      this.parent.set(cur, root);
      cur = next;
    }
    return root;
  }
  union(a: number, b: number): void {
    if (!this.parent.has(a)) this.parent.set(a, a);
    if (!this.parent.has(b)) this.parent.set(b, b);
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return;
    // The smaller id becomes the root: deterministic groups.
    if (ra < rb) this.parent.set(rb, ra);
    else this.parent.set(ra, rb);
  }
  /** Components with two or more members, each ascending, ordered by their smallest id. */
  groups(): number[][] {
    const by = new Map<number, number[]>();
    for (const x of this.parent.keys()) {
      const r = this.find(x);
      const g = by.get(r);
      if (g) g.push(x);
      else by.set(r, [x]);
    }
    return [...by.values()]
      .filter((g) => g.length > 1)
      .map((g) => g.sort((a, b) => a - b))
      .sort((a, b) => a[0]! - b[0]!);
  }
}

/** Keeper order: most pixels, then largest file, then earliest date taken, then the shorter name (`cat.jpg` before `cat copy.jpg`), then lowest id. */
function keeperOrder(a: CatalogImage, b: CatalogImage): number {
  return (
    b.width * b.height - a.width * a.height ||
    b.size - a.size ||
    (a.meta?.takenAt ?? Infinity) - (b.meta?.takenAt ?? Infinity) ||
    a.relPath.length - b.relPath.length ||
    a.id - b.id
  );
}

const dot = (a: Float32Array, b: Float32Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

/**
 * Finds groups of exact copies and near-duplicates among the indexed images (matching `filter`).
 *
 * Cost: one pass over the stored embeddings, each page of {@link BATCH} images searched as one
 * batched index query for its `neighbors + 1` nearest neighbours — n queries in all, so the
 * index's search cost decides (exact flat: O(n²·d) in BLAS-sized blocks; HNSW/USearch: ~O(n log n)).
 * Pairs at or above `threshold` are joined (union-find: a group grows through chains).
 */
export async function findDuplicates(
  catalog: Catalog,
  store: IndexStore,
  rootPaths: ReadonlyMap<number, string>,
  options: { threshold: number; neighbors: number; filter: CatalogFilter | undefined; signal?: AbortSignal; onProgress?: (done: number, total: number) => void },
): Promise<DuplicateReport> {
  const started = performance.now();
  const { threshold, neighbors, filter, signal } = options;
  if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold < 0 || threshold > 1) {
    throw new InvalidArgumentError(`threshold must be a number in [0, 1], got ${String(threshold)}`);
  }
  if (!Number.isInteger(neighbors) || neighbors < 1 || neighbors > 100) throw new InvalidArgumentError(`neighbors must be an integer in 1..100, got ${String(neighbors)}`);
  const allowed = filter ? new Set(catalog.matchingIds(filter)) : undefined;
  const total = allowed ? allowed.size : catalog.countMatching(undefined);
  const uf = new UnionFind();

  // Exact copies: one representative per content; the others are joined to it and not searched.
  const copyOf = new Map<number, number>();
  for (const group of catalog.hashGroups()) {
    const members = allowed ? group.filter((id) => allowed.has(id)) : group;
    for (const id of members.slice(1)) {
      copyOf.set(id, members[0]!);
      uf.union(members[0]!, id);
    }
  }

  // Near-duplicates through the index.
  let done = 0;
  const dim = store.dimension;
  if (dim !== undefined && store.size > 1 && threshold <= 1) {
    for (const page of catalog.embeddingPages({ pageSize: BATCH, ...(filter ? { filter } : {}) })) {
      if (signal?.aborted) throw new AbortedError('duplicate search');
      const queryIds: number[] = [];
      const rows: number[] = [];
      page.ids.forEach((id, r) => {
        if (!copyOf.has(id)) {
          queryIds.push(id);
          rows.push(r);
        }
      });
      if (queryIds.length > 0) {
        const queries = new Float32Array(queryIds.length * dim);
        rows.forEach((r, i) => queries.set(page.vectors.subarray(r * dim, (r + 1) * dim), i * dim));
        const results = await store.searchMany(queries, neighbors + 1);
        results.forEach((res, i) => {
          const self = queryIds[i]!;
          for (let j = 0; j < res.ids.length; j++) {
            if (res.scores[j]! < threshold) break;
            let other = res.ids[j]!;
            if (other === self) continue;
            other = copyOf.get(other) ?? other;
            if (other === self || (allowed && !allowed.has(other))) continue;
            uf.union(self, other);
          }
        });
      }
      done += page.ids.length;
      options.onProgress?.(done, total);
    }
  }

  const groups: DuplicateGroup[] = [];
  let redundantBytes = 0;
  for (const ids of uf.groups()) {
    const images = catalog.getImages(ids);
    const rows = ids.flatMap((id) => {
      const im = images.get(id);
      return im && im.status === 'indexed' ? [im] : [];
    });
    if (rows.length < 2) continue;
    rows.sort(keeperOrder);
    const keeper = rows[0]!;
    const keeperVec = catalog.getEmbedding(keeper.id);
    const members: DuplicateMember[] = rows.map((im) => {
      const same = im.hash !== null && im.hash === keeper.hash;
      const v = same || !keeperVec ? undefined : catalog.getEmbedding(im.id);
      const similarity = same ? 1 : v && keeperVec ? Math.min(1, dot(v, keeperVec)) : 0;
      return { ...toInfo(im, rootPaths.get(im.rootId) ?? ''), hash: im.hash ?? '', similarity };
    });
    const kind = new Set(rows.map((r) => r.hash)).size === 1 ? 'exact' : 'near';
    // Keeper first, then by similarity (exact copies of the keeper next).
    const [first, ...rest] = members;
    rest.sort((a, b) => b.similarity - a.similarity || a.id - b.id);
    const ordered = [first!, ...rest];
    redundantBytes += rest.reduce((n, m) => n + m.bytes, 0);
    groups.push({ kind, images: ordered, keeper: keeper.id, minSimilarity: Math.min(...ordered.map((m) => m.similarity)) });
  }
  // Exact groups first, then near ones by how alike they are.
  groups.sort((a, b) => (a.kind === b.kind ? b.minSimilarity - a.minSimilarity || a.keeper - b.keeper : a.kind === 'exact' ? -1 : 1));
  return { threshold, groups, images: total, redundantBytes, durationMs: performance.now() - started };
}
