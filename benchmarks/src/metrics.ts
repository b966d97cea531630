/**
 * Measures as the field defines them (ann-benchmarks; see docs in benchmarks/README.md).
 *
 * Recall@k: for each query, the share of the k returned ids whose true score (inner product,
 * recomputed from the base vectors — never the index's own, possibly quantised, distance) is
 * within `epsilon` of the true k-th best score; averaged over queries. Ties at the k-th place
 * therefore never count against an index.
 */
import type { GroundTruth } from './datasets/store.js';

/** ann-benchmarks' tolerance (1e-3 on the distance; for inner product, on the score). */
export const RECALL_EPSILON = 1e-3;

/**
 * Recall@k of `results` (per query: returned ids, best first; ids are base row numbers).
 * Queries with fewer than k results are penalised for the missing ones.
 */
export function recallAtK(
  results: ArrayLike<ArrayLike<number>>,
  gt: GroundTruth,
  base: Float32Array,
  queries: Float32Array,
  dimension: number,
  k: number,
  epsilon = RECALL_EPSILON,
): number {
  if (k > gt.k) throw new RangeError(`recall@${k} needs ground truth with k ≥ ${k} (have ${gt.k})`);
  const nq = results.length;
  if (nq === 0) return 0;
  const n = base.length / dimension;
  let total = 0;
  for (let q = 0; q < nq; q++) {
    const threshold = gt.scores[q * gt.k + k - 1]! - epsilon;
    const got = results[q]!;
    const m = Math.min(k, got.length);
    const qo = q * dimension;
    let hits = 0;
    const seen = new Set<number>();
    for (let i = 0; i < m; i++) {
      const id = got[i]!;
      if (!(id >= 0 && id < n) || seen.has(id)) continue;
      seen.add(id);
      const bo = id * dimension;
      let s = 0;
      for (let j = 0; j < dimension; j++) s += base[bo + j]! * queries[qo + j]!;
      if (s >= threshold) hits++;
    }
    total += hits / k;
  }
  return total / nq;
}

/**
 * Strict recall@k: per query, the share of the exact top-k ids (ground truth) that the index
 * returned in its first k, averaged. Unlike {@link recallAtK} it gives no credit for a different
 * id with a score within epsilon of the k-th — on data with tight score gaps that tolerance can
 * count several points more. Targets are judged on this figure.
 */
export function strictRecallAtK(results: ArrayLike<ArrayLike<number>>, gt: GroundTruth, k: number): number {
  const hits = strictHitsPerQuery(results, gt, k);
  if (hits.length === 0) return 0;
  let total = 0;
  for (let q = 0; q < hits.length; q++) total += hits[q]!;
  return total / (hits.length * k);
}

/** Per query, how many of the exact top-k ids are among the first k returned (0..k). */
export function strictHitsPerQuery(results: ArrayLike<ArrayLike<number>>, gt: GroundTruth, k: number): Int32Array {
  if (k > gt.k) throw new RangeError(`recall@${k} needs ground truth with k ≥ ${k} (have ${gt.k})`);
  const nq = results.length;
  const out = new Int32Array(nq);
  for (let q = 0; q < nq; q++) {
    const truth = new Set<number>();
    for (let i = 0; i < k; i++) truth.add(gt.ids[q * gt.k + i]!);
    const got = results[q]!;
    const m = Math.min(k, got.length);
    const seen = new Set<number>();
    let hits = 0;
    for (let i = 0; i < m; i++) {
      const id = got[i]!;
      if (seen.has(id)) continue;
      seen.add(id);
      if (truth.has(id)) hits++;
    }
    out[q] = hits;
  }
  return out;
}

/**
 * How many queries got 0, 1, …, k of the exact top-k (strict): index i holds the number of
 * queries with i hits. A bimodal shape (a few queries at 0, the rest ≥ 8) points at isolated
 * clusters the index cannot reach, which an average hides.
 */
export function hitHistogram(hits: Int32Array, k: number): number[] {
  const out = new Array<number>(k + 1).fill(0);
  for (let q = 0; q < hits.length; q++) out[Math.min(k, Math.max(0, hits[q]!))]!++;
  return out;
}

/** Every recall figure of one result set, computed over the same queries. */
export interface RecallFigures {
  /** Queries the figures cover (always the full query set). */
  queries: number;
  /** ann-benchmarks recall@1 and @10 (1e-3 tolerance on the score). */
  recall1: number;
  recall10: number;
  /** Strict (id overlap) recall@1 and @10. */
  strict1: number;
  strict10: number;
  /** hist10[i] = queries with i of the exact top-10 (strict). */
  hist10: number[];
}

/** All recall figures at k = 1 and 10 of `results` (one entry per query, best first). */
export function recallFigures(results: ArrayLike<ArrayLike<number>>, gt: GroundTruth, base: Float32Array, queries: Float32Array, dimension: number): RecallFigures {
  const hits10 = strictHitsPerQuery(results, gt, 10);
  return {
    queries: results.length,
    recall1: recallAtK(results, gt, base, queries, dimension, 1),
    recall10: recallAtK(results, gt, base, queries, dimension, 10),
    strict1: strictRecallAtK(results, gt, 1),
    strict10: strictRecallAtK(results, gt, 10),
    hist10: hitHistogram(hits10, 10),
  };
}

/** Median and spread of repeated measurements (a shared machine makes single figures noisy). */
export interface Spread {
  median: number;
  min: number;
  max: number;
  /** 25th and 75th percentiles. */
  q1: number;
  q3: number;
  n: number;
}

/** Median, quartiles and range of `values`. */
export function spreadOf(values: ArrayLike<number>): Spread {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    min = Math.min(min, values[i]!);
    max = Math.max(max, values[i]!);
  }
  return { median: percentile(values, 50), min, max, q1: percentile(values, 25), q3: percentile(values, 75), n: values.length };
}

/** The p-th percentile (0..100) of `values` by linear interpolation (NumPy's default). */
export function percentile(values: ArrayLike<number>, p: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return Number.NaN;
  const pos = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Latency summary of one run, milliseconds. */
export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  mean: number;
}

/** p50/p95/p99/mean of per-query times in milliseconds. */
export function summarizeLatencies(ms: ArrayLike<number>): LatencySummary {
  let sum = 0;
  for (let i = 0; i < ms.length; i++) sum += ms[i]!;
  return { p50: percentile(ms, 50), p95: percentile(ms, 95), p99: percentile(ms, 99), mean: ms.length ? sum / ms.length : Number.NaN };
}

/** Resident set size now, bytes. */
export function rssBytes(): number {
  return process.memoryUsage.rss();
}

/** Peak resident set size of this process so far, bytes. */
export function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** Runs a full GC when node was started with --expose-gc (the workers are), so RSS deltas mean something. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
}
