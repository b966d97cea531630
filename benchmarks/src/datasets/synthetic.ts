/**
 * Seeded synthetic data shaped like CLIP embeddings.
 *
 * Real CLIP image embeddings are far from uniform noise: they share a strong common direction
 * (two random images have cosine ≈ 0.4–0.6), fall into many topical clusters of uneven size, and
 * vary inside a cluster along a few directions much more than along the rest. Each vector here is
 *
 *     x = a·mean + b·centre(cluster) + U(cluster) · (s(cluster) ⊙ z) + (σ/√d) · ε,   then L2-normalised,
 *
 * with cluster centres grouped under topics (two-level hierarchy), a low-rank anisotropic
 * within-cluster term (rank `rank`, decaying scales, bases drawn from a shared pool) and a small
 * isotropic remainder. Cluster sizes follow a Zipf-like law. Queries come from the same mixture
 * through a different random stream, so none of them is in the base set.
 *
 * Generation is chunked with one PRNG stream per chunk, so the same (spec, seed) yields the same
 * bytes whatever the chunk consumer does.
 */
import { deriveSeed, normal, uniform } from './random.js';

/** What to generate. */
export interface SyntheticSpec {
  /** Base vectors. */
  n: number;
  /** Query vectors (not in the base set). */
  queries: number;
  /** Dimension (default 512, CLIP ViT-B/32). */
  dimension?: number;
  /** Seed (default 1). */
  seed?: number;
  /** Clusters (default: clamp(round(1.5·√n), 64, 2048)). */
  clusters?: number;
  /**
   * Shape of the mixture: `standard` (the published runs' data) or `hard` — clusters closer
   * together and looser inside, so neighbourhoods overlap and graph/IVF indexes have less
   * structure to lean on.
   */
  variant?: SyntheticVariant;
}

/** The base distributions the generator knows. */
export type SyntheticVariant = 'standard' | 'hard';

/**
 * Which query set: `in-distribution` queries come from the base mixture (image-to-image search);
 * `text-like` queries mimic CLIP's modality gap — text embeddings sit in their own cone, so a
 * query's best matches have cosine ≈ 0.3 (not ≈ 0.9), with tight gaps between neighbours.
 */
export type QueryKind = 'in-distribution' | 'text-like';

/** Generator settings that shape the distribution; part of the cache key via {@link GENERATOR_VERSION}. */
const STANDARD = {
  /** Weight of the shared mean direction. */
  mean: 0.9,
  /** Weight of the cluster centre. */
  centre: 0.8,
  /** Topics (first-level clusters). */
  topics: 48,
  /** How far a cluster centre strays from its topic. */
  topicSpread: 1.1,
  /** Rank of the within-cluster anisotropic term. */
  rank: 16,
  /** Bases in the shared pool. */
  basisPool: 64,
  /** Overall norm of the anisotropic term (median cluster). */
  lowRankNorm: 0.55,
  /** Norm of the isotropic remainder. */
  noise: 0.32,
  /** Decay exponent of the within-cluster scales. */
  decay: 0.7,
  /** Zipf exponent of cluster sizes. */
  zipf: 0.6,
};

type MixtureParams = typeof STANDARD;

/** The `hard` variant: weaker cluster centres, topics closer together, more spread inside. */
const HARD: MixtureParams = { ...STANDARD, centre: 0.5, topicSpread: 0.75, lowRankNorm: 0.75, noise: 0.45 };

/**
 * Text-like queries (CLIP's modality gap): a shared "text" direction orthogonal to the image
 * mean dominates, plus a weak pull towards one cluster's centre and its within-cluster axes.
 * Tuned so the best image has cosine ≈ 0.3 and unrelated images ≈ 0.1–0.2, as with CLIP ViT-B/32.
 */
const TEXT_LIKE = { gap: 1.0, mean: 0.22, centre: 0.3, lowRank: 0.5, noise: 0.55 };

function paramsFor(variant: SyntheticVariant | undefined): MixtureParams {
  return variant === 'hard' ? HARD : STANDARD;
}

/** Bumped whenever the generator's output changes (cached datasets are keyed by it). */
export const GENERATOR_VERSION = 1;

/** Rows generated per PRNG stream / chunk. */
export const CHUNK_ROWS = 4096;

interface Model {
  p: MixtureParams;
  d: number;
  clusters: number;
  mean: Float32Array;
  centres: Float32Array;
  /** Pool of bases: basisPool × rank × d. */
  bases: Float32Array;
  basisOf: Int32Array;
  /** clusters × rank scales. */
  scales: Float32Array;
  cumulative: Float64Array;
}

function unitGaussian(out: Float32Array, offset: number, d: number, gauss: () => number): void {
  let norm = 0;
  for (let j = 0; j < d; j++) {
    const v = gauss();
    out[offset + j] = v;
    norm += v * v;
  }
  const inv = 1 / Math.sqrt(norm);
  for (let j = 0; j < d; j++) out[offset + j]! *= inv;
}

function buildModel(d: number, clusters: number, seed: number, variant?: SyntheticVariant): Model {
  const MODEL = paramsFor(variant);
  const gauss = normal(deriveSeed(seed, 1));
  const rand = uniform(deriveSeed(seed, 2));
  const mean = new Float32Array(d);
  unitGaussian(mean, 0, d, gauss);
  const topics = new Float32Array(MODEL.topics * d);
  for (let t = 0; t < MODEL.topics; t++) unitGaussian(topics, t * d, d, gauss);
  const centres = new Float32Array(clusters * d);
  const tmp = new Float32Array(d);
  for (let c = 0; c < clusters; c++) {
    const t = Math.floor(rand() * MODEL.topics);
    unitGaussian(tmp, 0, d, gauss);
    let norm = 0;
    for (let j = 0; j < d; j++) {
      const v = topics[t * d + j]! + MODEL.topicSpread * tmp[j]!;
      centres[c * d + j] = v;
      norm += v * v;
    }
    const inv = 1 / Math.sqrt(norm);
    for (let j = 0; j < d; j++) centres[c * d + j]! *= inv;
  }
  const r = MODEL.rank;
  const bases = new Float32Array(MODEL.basisPool * r * d);
  for (let b = 0; b < MODEL.basisPool * r; b++) unitGaussian(bases, b * d, d, gauss);
  const basisOf = new Int32Array(clusters);
  const scales = new Float32Array(clusters * r);
  let decayNorm = 0;
  for (let j = 0; j < r; j++) decayNorm += Math.pow(j + 1, -2 * MODEL.decay);
  for (let c = 0; c < clusters; c++) {
    basisOf[c] = Math.floor(rand() * MODEL.basisPool);
    // Clusters differ in tightness (log-normal), and each axis of a cluster a little more.
    const tight = (MODEL.lowRankNorm * Math.exp(0.3 * gauss())) / Math.sqrt(decayNorm);
    for (let j = 0; j < r; j++) scales[c * r + j] = tight * Math.pow(j + 1, -MODEL.decay) * Math.exp(0.15 * gauss());
  }
  // Zipf-like cluster weights, in a random order so cluster id says nothing about size.
  const weights = new Float64Array(clusters);
  for (let c = 0; c < clusters; c++) weights[c] = Math.pow(c + 1, -MODEL.zipf);
  for (let c = clusters - 1; c > 0; c--) {
    const o = Math.floor(rand() * (c + 1));
    const w = weights[c]!;
    weights[c] = weights[o]!;
    weights[o] = w;
  }
  const cumulative = new Float64Array(clusters);
  let total = 0;
  for (let c = 0; c < clusters; c++) {
    total += weights[c]!;
    cumulative[c] = total;
  }
  for (let c = 0; c < clusters; c++) cumulative[c]! /= total;
  return { p: MODEL, d, clusters, mean, centres, bases, basisOf, scales, cumulative };
}

/** Draws a cluster index from the Zipf-like weights. */
function pickCluster(m: Model, u: number): number {
  let lo = 0;
  let hi = m.clusters - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (m.cumulative[mid]! < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function sampleRows(m: Model, out: Float32Array, rows: number, seed: number): void {
  const { d, mean, centres, bases, basisOf, scales, p: MODEL } = m;
  const r = MODEL.rank;
  const gauss = normal(seed);
  const rand = uniform(deriveSeed(seed, 7));
  const noise = MODEL.noise / Math.sqrt(d);
  const a = MODEL.mean;
  const b = MODEL.centre;
  const z = new Float64Array(r);
  const row = new Float64Array(d);
  for (let i = 0; i < rows; i++) {
    const c = pickCluster(m, rand());
    const co = c * d;
    for (let j = 0; j < d; j++) row[j] = a * mean[j]! + b * centres[co + j]! + noise * gauss();
    for (let t = 0; t < r; t++) z[t] = scales[c * r + t]! * gauss();
    const bo = basisOf[c]! * r * d;
    for (let t = 0; t < r; t++) {
      const zt = z[t]!;
      const to = bo + t * d;
      for (let j = 0; j < d; j++) row[j]! += zt * bases[to + j]!;
    }
    let norm = 0;
    for (let j = 0; j < d; j++) norm += row[j]! * row[j]!;
    const inv = 1 / Math.sqrt(norm);
    const o = i * d;
    for (let j = 0; j < d; j++) out[o + j] = row[j]! * inv;
  }
}

/** The unit "text" direction of {@link TEXT_LIKE} queries: seeded, orthogonal to the image mean. */
function textDirection(m: Model, seed: number): Float64Array {
  const gauss = normal(deriveSeed(seed, 303));
  const g = new Float64Array(m.d);
  for (let j = 0; j < m.d; j++) g[j] = gauss();
  let dot = 0;
  for (let j = 0; j < m.d; j++) dot += g[j]! * m.mean[j]!;
  let norm = 0;
  for (let j = 0; j < m.d; j++) {
    g[j] = g[j]! - dot * m.mean[j]!;
    norm += g[j]! * g[j]!;
  }
  const inv = 1 / Math.sqrt(norm);
  for (let j = 0; j < m.d; j++) g[j]! *= inv;
  return g;
}

function sampleTextLikeRows(m: Model, out: Float32Array, rows: number, seed: number, gap: Float64Array): void {
  const { d, mean, centres, bases, basisOf, scales, p } = m;
  const r = p.rank;
  const gauss = normal(seed);
  const rand = uniform(deriveSeed(seed, 7));
  const t = TEXT_LIKE;
  const noise = t.noise / Math.sqrt(d);
  const row = new Float64Array(d);
  for (let i = 0; i < rows; i++) {
    const c = pickCluster(m, rand());
    const co = c * d;
    for (let j = 0; j < d; j++) row[j] = t.gap * gap[j]! + t.mean * mean[j]! + t.centre * centres[co + j]! + noise * gauss();
    const bo = basisOf[c]! * r * d;
    for (let a = 0; a < r; a++) {
      const z = t.lowRank * scales[c * r + a]! * gauss();
      const to = bo + a * d;
      for (let j = 0; j < d; j++) row[j]! += z * bases[to + j]!;
    }
    let norm = 0;
    for (let j = 0; j < d; j++) norm += row[j]! * row[j]!;
    const inv = 1 / Math.sqrt(norm);
    const o = i * d;
    for (let j = 0; j < d; j++) out[o + j] = row[j]! * inv;
  }
}

/** Default cluster count for `n` base vectors. */
export function defaultClusters(n: number): number {
  return Math.min(2048, Math.max(64, Math.round(1.5 * Math.sqrt(n))));
}

/**
 * Generates the base set (`which = 'base'`) or the query set chunk by chunk: calls `onChunk`
 * with row-major `rows × d` floats (the array is reused between calls: copy what you keep).
 */
export function generateSynthetic(
  spec: SyntheticSpec,
  which: 'base' | 'queries',
  onChunk: (chunk: Float32Array, firstRow: number) => void,
  queryKind: QueryKind = 'in-distribution',
): void {
  const d = spec.dimension ?? 512;
  const seed = spec.seed ?? 1;
  const model = buildModel(d, spec.clusters ?? defaultClusters(spec.n), seed, spec.variant);
  const total = which === 'base' ? spec.n : spec.queries;
  const textLike = which === 'queries' && queryKind === 'text-like';
  const gap = textLike ? textDirection(model, seed) : undefined;
  const streamBase = deriveSeed(seed, which === 'base' ? 101 : textLike ? 404 : 202);
  const buf = new Float32Array(Math.min(CHUNK_ROWS, Math.max(1, total)) * d);
  for (let first = 0, chunk = 0; first < total; first += CHUNK_ROWS, chunk++) {
    const rows = Math.min(CHUNK_ROWS, total - first);
    const view = rows * d === buf.length ? buf : buf.subarray(0, rows * d);
    if (gap) sampleTextLikeRows(model, view, rows, deriveSeed(streamBase, chunk), gap);
    else sampleRows(model, view, rows, deriveSeed(streamBase, chunk));
    onChunk(view, first);
  }
}

/** Generates a whole set into memory (small sizes; the CLI streams to disk instead). */
export function syntheticSet(spec: SyntheticSpec, which: 'base' | 'queries', queryKind: QueryKind = 'in-distribution'): Float32Array {
  const d = spec.dimension ?? 512;
  const out = new Float32Array((which === 'base' ? spec.n : spec.queries) * d);
  generateSynthetic(spec, which, (chunk, first) => out.set(chunk, first * d), queryKind);
  return out;
}
