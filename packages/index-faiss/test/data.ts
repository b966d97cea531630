// Seeded test data: unit vectors around random cluster centres (CLIP embeddings cluster too).
// Unstructured vectors and brute-force answers come from @pixsearch/core/datasets.

/** mulberry32, shared with the conformance suite's datasets. */
import { normalizeRows } from '@pixsearch/core';
import { mulberry32 as rng } from '@pixsearch/core/datasets';

function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/** `n` unit vectors of dimension `d` around `clusters` centres, with per-component noise `spread`. */
export function clustered(n: number, d: number, seed: number, clusters = 64, spread = 0.6): Float32Array {
  const r = rng(seed);
  const centres = normalizeRows(Float32Array.from({ length: clusters * d }, () => gauss(r)), d);
  const out = new Float32Array(n * d);
  const noise = spread / Math.sqrt(d);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(r() * clusters);
    for (let j = 0; j < d; j++) out[i * d + j] = centres[c * d + j]! + noise * gauss(r);
  }
  return normalizeRows(out, d);
}

/** Ids 0..n−1 shifted by `offset`. */
export function seqIds(n: number, offset = 0): number[] {
  return Array.from({ length: n }, (_, i) => i + offset);
}

/** Mean share of `truth` ids (top-k per query) found in `got`. */
export function recallAt(got: { ids: number[] }[], truth: { ids: number[] }[], k: number): number {
  let hit = 0;
  let total = 0;
  for (let q = 0; q < truth.length; q++) {
    const t = new Set(truth[q]!.ids.slice(0, k));
    for (const id of got[q]!.ids.slice(0, k)) if (t.has(id)) hit++;
    total += t.size;
  }
  return total === 0 ? 1 : hit / total;
}

/** Rows `rows` of a row-major matrix, as a new Float32Array. */
export function pickRows(m: Float32Array, d: number, rows: number[]): Float32Array {
  const out = new Float32Array(rows.length * d);
  rows.forEach((r, i) => out.set(m.subarray(r * d, (r + 1) * d), i * d));
  return out;
}
