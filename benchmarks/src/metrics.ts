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
