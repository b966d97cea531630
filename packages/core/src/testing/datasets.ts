/**
 * Seeded synthetic data shaped like CLIP embeddings: L2-normalised vectors drawn from a
 * mixture of anisotropic Gaussian clusters. Uniform noise makes every index look good or bad
 * for the wrong reasons; clustered data with uneven spreads behaves like real embeddings.
 */

import { normalizeRows } from '../vectors.js';

/** A seeded PRNG (mulberry32): uniform floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples from a uniform source (Box–Muller, caching the second value). */
export function gaussian(rand: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = rand();
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

export interface ClusteredOptions {
  /** Number of clusters (default: max(16, round(√n / 2)), capped at 1024). */
  clusters?: number;
  /** Overall within-cluster spread relative to the centre's unit norm (default 0.6). */
  spread?: number;
}

/** Cluster model shared by a base set and its queries (same distribution). */
export interface ClusterModel {
  dimension: number;
  centers: Float32Array;
  /** Per-cluster, per-dimension standard deviations (anisotropy). */
  scales: Float32Array;
  /** Cluster weights (cumulative, for sampling). */
  cumulative: Float64Array;
}

/** Builds a seeded cluster model (centres on the unit sphere, log-normal per-axis spreads, Zipf-like weights). */
export function clusterModel(dimension: number, clusters: number, seed: number, spread = 0.6): ClusterModel {
  const rand = mulberry32(seed);
  const gauss = gaussian(rand);
  const centers = new Float32Array(clusters * dimension);
  const scales = new Float32Array(clusters * dimension);
  const perAxis = spread / Math.sqrt(dimension);
  for (let c = 0; c < clusters; c++) {
    let norm = 0;
    for (let j = 0; j < dimension; j++) {
      const v = gauss();
      centers[c * dimension + j] = v;
      norm += v * v;
    }
    const inv = 1 / Math.sqrt(norm);
    const clusterSpread = perAxis * Math.exp(0.35 * gauss());
    for (let j = 0; j < dimension; j++) {
      centers[c * dimension + j]! *= inv;
      scales[c * dimension + j] = clusterSpread * Math.exp(0.5 * gauss());
    }
  }
  const cumulative = new Float64Array(clusters);
  let total = 0;
  for (let c = 0; c < clusters; c++) {
    total += 1 / Math.pow(c + 1, 0.5);
    cumulative[c] = total;
  }
  for (let c = 0; c < clusters; c++) cumulative[c]! /= total;
  return { dimension, centers, scales, cumulative };
}

/** Draws `n` L2-normalised vectors from `model` with PRNG seed `seed` (row-major n × d). */
export function sampleClusters(model: ClusterModel, n: number, seed: number): Float32Array {
  const { dimension: d, centers, scales, cumulative } = model;
  const rand = mulberry32(seed);
  const gauss = gaussian(rand);
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const u = rand();
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    const co = lo * d;
    const o = i * d;
    let norm = 0;
    for (let j = 0; j < d; j++) {
      const v = centers[co + j]! + scales[co + j]! * gauss();
      out[o + j] = v;
      norm += v * v;
    }
    const inv = 1 / Math.sqrt(norm);
    for (let j = 0; j < d; j++) out[o + j]! *= inv;
  }
  return out;
}

/**
 * A seeded clustered dataset: `n` base vectors and `queries` query vectors drawn from the same
 * mixture (different seeds, so queries are not in the base set).
 */
export function clusteredDataset(
  n: number,
  dimension: number,
  queries: number,
  seed = 42,
  options: ClusteredOptions = {},
): { base: Float32Array; queries: Float32Array } {
  const clusters = options.clusters ?? Math.min(1024, Math.max(16, Math.round(Math.sqrt(n) / 2)));
  const model = clusterModel(dimension, clusters, seed, options.spread);
  return { base: sampleClusters(model, n, seed + 1), queries: sampleClusters(model, queries, seed + 2) };
}

/**
 * `n` seeded vectors drawn uniformly from the unit sphere in `dimension` dimensions (normalised
 * Gaussian rows, row-major): data with no structure, for tests that need arbitrary distinct vectors.
 */
export function randomUnitVectors(n: number, dimension: number, seed: number): Float32Array {
  const gauss = gaussian(mulberry32(seed));
  return normalizeRows(Float32Array.from({ length: n * dimension }, gauss), dimension);
}

/** Options for {@link bruteForceTopK}. */
export interface BruteForceOptions {
  /** `cosine` (default): inner product of unit vectors; `l2`: minus the squared distance (higher is nearer, as `VectorIndex` scores). */
  metric?: 'cosine' | 'l2';
  /** The id of base row `row`, or undefined to leave the row out (removed). Default: the row number. */
  idOf?: (row: number) => number | undefined;
}

/**
 * Exact top-`k` of one query over the rows of `base` (brute force, for tests), best first; ties
 * keep row order. Scores are rounded to float32, as an index stores and returns them.
 */
export function bruteForceTopK(base: Float32Array, dimension: number, query: Float32Array, k: number, options: BruteForceOptions = {}): { ids: number[]; scores: number[] } {
  const l2 = options.metric === 'l2';
  const idOf = options.idOf ?? ((r: number) => r);
  const scored: { id: number; score: number }[] = [];
  for (let r = 0; r < base.length / dimension; r++) {
    const id = idOf(r);
    if (id === undefined) continue;
    const o = r * dimension;
    let s = 0;
    for (let j = 0; j < dimension; j++) s += l2 ? -((base[o + j]! - query[j]!) ** 2) : base[o + j]! * query[j]!;
    scored.push({ id, score: Math.fround(s) });
  }
  scored.sort((a, b) => b.score - a.score);
  const top = scored.slice(0, k);
  return { ids: top.map((x) => x.id), scores: top.map((x) => x.score) };
}

/** Exact top-`k` by inner product for each query (brute force, for tests): ids are row numbers in `base`. */
export function exactTopK(base: Float32Array, queries: Float32Array, dimension: number, k: number): { ids: number[]; scores: number[] }[] {
  const out: { ids: number[]; scores: number[] }[] = [];
  for (let q = 0; q < queries.length / dimension; q++) out.push(bruteForceTopK(base, dimension, queries.subarray(q * dimension, (q + 1) * dimension), k));
  return out;
}

/**
 * Recall@k as ann-benchmarks measures it: the share of returned neighbours whose score is
 * within `epsilon` of the true k-th best score (so ties do not count against an index).
 */
export function recallAtK(
  results: readonly { scores: readonly number[] }[],
  truth: readonly { scores: readonly number[] }[],
  k: number,
  epsilon = 1e-3,
): number {
  let hits = 0;
  for (let q = 0; q < truth.length; q++) {
    const kth = truth[q]!.scores[Math.min(k, truth[q]!.scores.length) - 1]!;
    const got = results[q]?.scores ?? [];
    for (let i = 0; i < Math.min(k, got.length); i++) if (got[i]! >= kth - epsilon) hits++;
  }
  return hits / (truth.length * k);
}
