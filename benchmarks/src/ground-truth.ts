/**
 * Exact ground truth by inner product with FAISS `IndexFlatIP` (faiss-node called directly:
 * the reference must not depend on the adapter under test). faiss-node takes `number[]`, so the
 * base set is added in chunks (a JS array of 1M × 512 doubles would not even fit V8's limits)
 * and queries are searched in blocks.
 */
import faiss from 'faiss-node';
import type { GroundTruth } from './datasets/store.js';

/** Rows converted to `number[]` per `add` call. */
const ADD_ROWS = 20_000;
/** Queries per `search` call. */
const SEARCH_ROWS = 256;

/**
 * Top-`k` by inner product of every query against `base` (both row-major, `dimension` wide).
 * `k` is capped at the base size. Ties keep FAISS's order.
 */
export function exactGroundTruth(base: Float32Array, queries: Float32Array, dimension: number, k: number): GroundTruth {
  const n = base.length / dimension;
  const nq = queries.length / dimension;
  const kk = Math.min(k, n);
  const index = new faiss.IndexFlatIP(dimension);
  for (let r = 0; r < n; r += ADD_ROWS) {
    index.add(Array.from(base.subarray(r * dimension, Math.min(n, r + ADD_ROWS) * dimension)));
  }
  const ids = new Int32Array(nq * kk);
  const scores = new Float32Array(nq * kk);
  for (let q = 0; q < nq; q += SEARCH_ROWS) {
    const rows = Math.min(SEARCH_ROWS, nq - q);
    const res = index.search(Array.from(queries.subarray(q * dimension, (q + rows) * dimension)), kk);
    ids.set(res.labels, q * kk);
    scores.set(res.distances, q * kk);
  }
  return { k: kk, ids, scores };
}
