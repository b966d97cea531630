import { InvalidArgumentError } from '../errors.js';
import type { SearchParams } from '../vector-index.js';
import type { Catalog, CatalogImage } from './catalog.js';
import type { IndexStore } from './index-store.js';

/** Default number of results. */
export const DEFAULT_K = 30;
/** Largest `k`. */
export const MAX_K = 1000;
/** Largest `offset`. */
export const MAX_OFFSET = 100_000;
/** Default absolute score threshold (cosine), as in the reference. */
export const DEFAULT_THRESHOLD = 0.1;
/** A path prefix matching at most this many images is searched exactly over their stored embeddings. */
export const PREFILTER_MAX = 50_000;
/** Most neighbours ever requested from the index for one search. */
export const MAX_FETCH = 100_000;

export interface KnnOptions {
  k: number;
  offset: number;
  threshold: number;
  relativeThreshold: number | undefined;
  pathPrefix: string | undefined;
  exclude: ReadonlySet<number>;
  params: SearchParams | undefined;
  /** Override of {@link PREFILTER_MAX} (tests). */
  prefilterMax?: number;
}

export interface KnnResult {
  hits: { image: CatalogImage; score: number }[];
  total: number | undefined;
  searchMs: number;
  catalogMs: number;
}

/** Validates and fills in search options. Throws `InvalidArgumentError`. */
export function normalizeOptions(o: {
  k?: number;
  offset?: number;
  threshold?: number;
  relativeThreshold?: number;
  pathPrefix?: string;
}): Omit<KnnOptions, 'exclude' | 'params'> {
  const k = o.k ?? DEFAULT_K;
  const offset = o.offset ?? 0;
  const threshold = o.threshold ?? DEFAULT_THRESHOLD;
  if (!Number.isInteger(k) || k < 1 || k > MAX_K) throw new InvalidArgumentError(`k must be an integer in 1..${MAX_K}, got ${k}`);
  if (!Number.isInteger(offset) || offset < 0 || offset > MAX_OFFSET) throw new InvalidArgumentError(`offset must be an integer in 0..${MAX_OFFSET}, got ${offset}`);
  if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold < -1 || threshold > 1) {
    throw new InvalidArgumentError(`threshold must be a number in [-1, 1], got ${threshold}`);
  }
  const rel = o.relativeThreshold;
  if (rel !== undefined && (typeof rel !== 'number' || !Number.isFinite(rel) || rel < 0 || rel > 2)) {
    throw new InvalidArgumentError(`relativeThreshold must be a number in [0, 2], got ${rel}`);
  }
  const prefix = o.pathPrefix === undefined || o.pathPrefix === '' ? undefined : o.pathPrefix;
  if (prefix !== undefined && (typeof prefix !== 'string' || prefix.length > 4096 || prefix.includes('\0'))) {
    throw new InvalidArgumentError('pathPrefix must be a string of at most 4096 characters');
  }
  return { k, offset, threshold, relativeThreshold: rel, pathPrefix: prefix };
}

/** True when the image's path (relative, or absolute for a `/` prefix) starts with `prefix`. */
function matchesPrefix(image: CatalogImage, rootPath: string | undefined, prefix: string): boolean {
  if (!prefix.startsWith('/')) return image.relPath.startsWith(prefix);
  if (rootPath === undefined) return false;
  return `${rootPath === '/' ? '' : rootPath}/${image.relPath}`.startsWith(prefix);
}

/**
 * Top hits for one normalised query vector, with filters.
 *
 * - No path prefix: the index is asked for `k + offset + |exclude|` neighbours; while fewer pass
 *   (images dropped because the catalog no longer lists them) and the last one still clears the
 *   threshold, the request doubles — at most up to min(index size, 10·(k + offset) + |exclude|, MAX_FETCH).
 * - A path prefix matching ≤ PREFILTER_MAX images: exact scan of those images' stored embeddings.
 * - A larger prefix (share s of the library): over-fetch from the index, starting at
 *   ⌈1.5·(k + offset)/s⌉ and doubling, up to min(index size, ⌈8·(k + offset)/s⌉, MAX_FETCH).
 *
 * When the cap is reached before enough hits pass, fewer hits are returned and `total` is undefined.
 */
export async function knn(
  catalog: Catalog,
  store: IndexStore,
  rootPaths: ReadonlyMap<number, string>,
  query: Float32Array,
  o: KnnOptions,
): Promise<KnnResult> {
  const need = o.k + o.offset;
  let searchMs = 0;
  let catalogMs = 0;
  const size = store.size;
  let cap = Math.min(size, 10 * need + o.exclude.size, MAX_FETCH);
  let fetch = Math.min(size, need + o.exclude.size);

  if (o.pathPrefix !== undefined) {
    const t0 = performance.now();
    const n = catalog.countWithPrefix(o.pathPrefix);
    catalogMs += performance.now() - t0;
    if (n === 0) return { hits: [], total: 0, searchMs, catalogMs };
    if (n <= (o.prefilterMax ?? PREFILTER_MAX) || size === 0) {
      const t1 = performance.now();
      const res = exactScan(catalog, query, o);
      catalogMs += performance.now() - t1;
      return { ...res, searchMs, catalogMs };
    }
    const share = Math.min(1, n / size);
    cap = Math.min(size, Math.ceil((8 * need) / share) + o.exclude.size, MAX_FETCH);
    fetch = Math.min(cap, Math.ceil((1.5 * need) / share) + o.exclude.size);
  }

  const passing: { image: CatalogImage; score: number }[] = [];
  for (;;) {
    const t0 = performance.now();
    const res = await store.search(query, fetch, o.params);
    searchMs += performance.now() - t0;
    const t1 = performance.now();
    const images = catalog.getImages(res.ids);
    catalogMs += performance.now() - t1;
    passing.length = 0;
    let floor = o.threshold;
    let belowThreshold = false;
    for (let i = 0; i < res.ids.length; i++) {
      const score = res.scores[i]!;
      if (score < floor) {
        belowThreshold = true;
        break;
      }
      const id = res.ids[i]!;
      if (o.exclude.has(id)) continue;
      const image = images.get(id);
      if (!image || image.status !== 'indexed') continue; // stale index entry (read-only reader, or mid-sync)
      if (o.pathPrefix !== undefined && !matchesPrefix(image, rootPaths.get(image.rootId), o.pathPrefix)) continue;
      if (passing.length === 0 && o.relativeThreshold !== undefined) floor = Math.max(floor, score - o.relativeThreshold);
      passing.push({ image, score });
    }
    const exhausted = belowThreshold || res.ids.length < fetch || fetch >= size;
    if (passing.length >= need || exhausted || fetch >= cap) {
      return { hits: passing.slice(o.offset, need), total: exhausted ? passing.length : undefined, searchMs, catalogMs };
    }
    fetch = Math.min(cap, fetch * 2);
  }
}

/** Exact cosine over the stored embeddings of the images under a path prefix. */
function exactScan(catalog: Catalog, query: Float32Array, o: KnnOptions): Omit<KnnResult, 'searchMs' | 'catalogMs'> {
  const dim = query.length;
  const scored: { id: number; score: number }[] = [];
  for (const page of catalog.embeddingPages({ pathPrefix: o.pathPrefix! })) {
    const v = page.vectors;
    for (let r = 0; r < page.ids.length; r++) {
      const id = page.ids[r]!;
      if (o.exclude.has(id)) continue;
      let s = 0;
      const off = r * dim;
      for (let j = 0; j < dim; j++) s += v[off + j]! * query[j]!;
      if (s >= o.threshold) scored.push({ id, score: s });
    }
  }
  scored.sort((a, b) => b.score - a.score || a.id - b.id);
  let kept = scored;
  if (o.relativeThreshold !== undefined && scored.length > 0) {
    const floor = scored[0]!.score - o.relativeThreshold;
    kept = scored.filter((h) => h.score >= floor);
  }
  const page = kept.slice(o.offset, o.offset + o.k);
  const images = catalog.getImages(page.map((h) => h.id));
  const hits = page.flatMap((h) => {
    const image = images.get(h.id);
    return image ? [{ image, score: h.score }] : [];
  });
  return { hits, total: kept.length };
}
