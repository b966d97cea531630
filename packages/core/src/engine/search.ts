import { InvalidArgumentError } from '../errors.js';
import type { SearchParams } from '../vector-index.js';
import type { Catalog, CatalogFilter, CatalogImage } from './catalog.js';
import { matchesFilter, resolveFilter, type FilterOptions, type SortOrder } from './filter.js';
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
/**
 * Indexes up to this size answer every search with an exact `total` and can sort by date over all
 * results above the threshold: when the first fetch does not reach the threshold, one pass asks the
 * index for all its vectors. Larger indexes stop at MAX_FETCH (and then leave `total` undefined).
 */
export const FULL_PASS_MAX = 250_000;
/**
 * Relevance-ordered searches count their exact `total` with that whole-index pass only up to this
 * index size: the pass costs about 7× a plain top-k query at 100k images (measured: 816 vs 114 ms
 * under load), too much for search-as-you-type. Larger libraries get an exact total whenever the
 * threshold is reached within the over-fetch, and no `total` otherwise.
 */
export const COUNT_PASS_MAX = 20_000;

export interface KnnOptions {
  k: number;
  offset: number;
  threshold: number;
  relativeThreshold: number | undefined;
  /** Metadata filter (undefined: none). */
  filter: CatalogFilter | undefined;
  /** Result order (default relevance). Date orders sort all hits above the threshold by date taken. */
  sort?: SortOrder;
  exclude: ReadonlySet<number>;
  params: SearchParams | undefined;
  /** Override of {@link PREFILTER_MAX} (tests). */
  prefilterMax?: number;
  /** Override of {@link FULL_PASS_MAX} (tests). */
  fullPassMax?: number;
  /** Override of {@link COUNT_PASS_MAX} (tests). */
  countPassMax?: number;
}

export interface KnnResult {
  hits: { image: CatalogImage; score: number }[];
  /** Every hit passing the filters and thresholds; undefined only past FULL_PASS_MAX. */
  total: number | undefined;
  searchMs: number;
  catalogMs: number;
}

/** Validates and fills in search options. Throws `InvalidArgumentError`. */
export function normalizeOptions(
  o: FilterOptions & { k?: number; offset?: number; threshold?: number; relativeThreshold?: number; sort?: SortOrder },
): Omit<KnnOptions, 'exclude' | 'params'> {
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
  const sort = o.sort ?? 'relevance';
  if (sort !== 'relevance' && sort !== 'date-desc' && sort !== 'date-asc') {
    throw new InvalidArgumentError(`sort must be relevance, date-desc or date-asc, got ${String(sort)}`);
  }
  return { k, offset, threshold, relativeThreshold: rel, filter: resolveFilter(o), sort };
}

type Scored = { id: number; score: number };

/**
 * Top hits for one normalised query vector, with filters and sort; `total` counts every hit
 * that passes the filters and thresholds.
 *
 * - A filter matching ≤ PREFILTER_MAX images: exact scan of those images' stored embeddings.
 * - Otherwise the index is asked for `k + offset + |exclude|` neighbours (a filter matching a
 *   share s of the library: ⌈1.5·(k + offset)/s⌉), doubling while too few pass and the last still
 *   clears the threshold, up to 8·(k + offset)/s. If the threshold was still not reached, one more
 *   pass fetches the whole index (up to COUNT_PASS_MAX vectors) to count the total exactly.
 * - Date sorts order all hits above the threshold by date taken (the full pass when needed).
 */
export async function knn(
  catalog: Catalog,
  store: IndexStore,
  rootPaths: ReadonlyMap<number, string>,
  query: Float32Array,
  o: KnnOptions,
): Promise<KnnResult> {
  const need = o.k + o.offset;
  const sort = o.sort ?? 'relevance';
  let searchMs = 0;
  let catalogMs = 0;
  const size = store.size;
  let cap = Math.min(size, 10 * need + o.exclude.size, MAX_FETCH);
  let fetch = Math.min(size, need + o.exclude.size);

  const finish = (all: Scored[]): KnnResult => {
    const t0 = performance.now();
    const hits = pageOf(catalog, all, o, sort);
    catalogMs += performance.now() - t0;
    return { hits, total: all.length, searchMs, catalogMs };
  };

  if (o.filter !== undefined) {
    const t0 = performance.now();
    // Bounded count (never the whole library): only "small enough for an exact scan" and a lower
    // bound of the share matter; an underestimated share only over-fetches (≤ MAX_FETCH).
    const n = catalog.countMatching(o.filter, (o.prefilterMax ?? PREFILTER_MAX) + 1);
    catalogMs += performance.now() - t0;
    if (n === 0) return { hits: [], total: 0, searchMs, catalogMs };
    if (n <= (o.prefilterMax ?? PREFILTER_MAX) || size === 0) {
      const t1 = performance.now();
      const all = exactScan(catalog, query, o);
      catalogMs += performance.now() - t1;
      return finish(all);
    }
    const share = Math.min(1, n / size);
    cap = Math.min(size, Math.ceil((8 * need) / share) + o.exclude.size, MAX_FETCH);
    fetch = Math.min(cap, Math.ceil((1.5 * need) / share) + o.exclude.size);
  }
  const fullPassMax = o.fullPassMax ?? FULL_PASS_MAX;
  // A date sort needs every hit above the threshold: start with the full pass when it is allowed.
  if (sort !== 'relevance' && size <= fullPassMax) fetch = cap = size;

  for (;;) {
    const t0 = performance.now();
    const res = await store.search(query, fetch, o.params);
    searchMs += performance.now() - t0;
    const t1 = performance.now();
    const images = catalog.getImages(res.ids);
    catalogMs += performance.now() - t1;
    const passing: Scored[] = [];
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
      if (o.filter !== undefined && !matchesFilter(image, rootPaths.get(image.rootId), o.filter)) continue;
      if (passing.length === 0 && o.relativeThreshold !== undefined) floor = Math.max(floor, score - o.relativeThreshold);
      passing.push({ id, score });
    }
    const exhausted = belowThreshold || res.ids.length < fetch || fetch >= size;
    if (exhausted) {
      const t2 = performance.now();
      const hits = pageOf(catalog, passing, o, sort, images);
      catalogMs += performance.now() - t2;
      return { hits, total: passing.length, searchMs, catalogMs };
    }
    if (passing.length >= need || fetch >= cap) {
      if (size <= (sort === 'relevance' ? Math.min(fullPassMax, o.countPassMax ?? COUNT_PASS_MAX) : fullPassMax)) {
        // Enough hits for this page, but not the total: count over the whole index.
        const t2 = performance.now();
        const all = await store.search(query, size, o.params);
        searchMs += performance.now() - t2;
        const t3 = performance.now();
        const counted = countPass(catalog, rootPaths, all, o, passing);
        catalogMs += performance.now() - t3;
        if (sort !== 'relevance') return finish(counted.all);
        const hits = pageOf(catalog, passing, o, sort, images);
        return { hits, total: counted.total, searchMs, catalogMs };
      }
      const t2 = performance.now();
      const hits = pageOf(catalog, passing, o, sort, images);
      catalogMs += performance.now() - t2;
      return { hits, total: undefined, searchMs, catalogMs };
    }
    fetch = Math.min(cap, fetch * 2);
  }
}

/**
 * Counts the hits of a whole-index result: scores above the (relative) threshold, ids the catalog
 * holds as indexed and matching the filter. Returns them all when a date sort needs them.
 */
function countPass(
  catalog: Catalog,
  rootPaths: ReadonlyMap<number, string>,
  res: { ids: number[]; scores: number[] },
  o: KnnOptions,
  firstPassing: readonly Scored[],
): { total: number; all: Scored[] } {
  void rootPaths;
  const allowed = new Set(catalog.matchingIds(o.filter));
  let floor = o.threshold;
  if (o.relativeThreshold !== undefined && firstPassing.length > 0) floor = Math.max(floor, firstPassing[0]!.score - o.relativeThreshold);
  const all: Scored[] = [];
  for (let i = 0; i < res.ids.length; i++) {
    const score = res.scores[i]!;
    if (score < floor) break;
    const id = res.ids[i]!;
    if (o.exclude.has(id) || !allowed.has(id)) continue;
    all.push({ id, score });
  }
  return { total: all.length, all };
}

/** The requested page of `all` (sorted best first), in the requested order, with catalog rows. */
function pageOf(catalog: Catalog, all: readonly Scored[], o: KnnOptions, sort: SortOrder, known?: Map<number, CatalogImage>): { image: CatalogImage; score: number }[] {
  let page: Scored[];
  if (sort === 'relevance') page = all.slice(o.offset, o.offset + o.k);
  else {
    const scores = new Map(all.map((h) => [h.id, h.score]));
    const ids = catalog.orderByDate(all.map((h) => h.id), sort === 'date-desc' ? 'desc' : 'asc', o.offset, o.k);
    page = ids.map((id) => ({ id, score: scores.get(id)! }));
  }
  const missing = page.filter((h) => !known?.has(h.id)).map((h) => h.id);
  const fetched = missing.length > 0 ? catalog.getImages(missing) : new Map<number, CatalogImage>();
  return page.flatMap((h) => {
    const image = known?.get(h.id) ?? fetched.get(h.id);
    return image ? [{ image, score: h.score }] : [];
  });
}

/** Exact cosine over the stored embeddings of the images matching the filter; all hits above the thresholds, best first. */
function exactScan(catalog: Catalog, query: Float32Array, o: KnnOptions): Scored[] {
  const dim = query.length;
  const scored: Scored[] = [];
  for (const page of catalog.embeddingPages({ filter: o.filter! })) {
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
  if (o.relativeThreshold !== undefined && scored.length > 0) {
    const floor = scored[0]!.score - o.relativeThreshold;
    return scored.filter((h) => h.score >= floor);
  }
  return scored;
}
