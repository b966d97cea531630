// faiss-node accepts only `number[]` and reads it element by element. These helpers feed it
// bounded chunks copied into one reused array, so no call ever materialises a giant JS array.
import type { NativeIndex } from './faiss-native.js';

/** Upper bound on the floats handed to faiss-node in one call (256 KiB as float32). */
export const CHUNK_FLOATS = 1 << 16;

/**
 * Upper bound on the query floats handed to faiss-node in one search call (16 MiB as a JS double
 * array). Larger than CHUNK_FLOATS on purpose: FAISS's BLAS path scans the whole database once
 * per call (it blocks queries by 4096 itself), so small query chunks multiply memory traffic —
 * 128-query chunks made a 1000-query batch over 100k×512 about 2× slower than one call.
 */
export const QUERY_CHUNK_FLOATS = 1 << 21;

/** Upper bound on result entries (labels + distances, nq × k) built by one search call. */
export const RESULT_CHUNK_ENTRIES = 1 << 22;

/** Rows per chunk for vectors of dimension `d` (at least 1). */
export function rowsPerChunk(d: number, maxFloats = CHUNK_FLOATS): number {
  return Math.max(1, Math.floor(maxFloats / d));
}

/** A reusable `number[]` that receives chunks of a `Float32Array` (row subsets allowed). */
export class ChunkArray {
  private arr: number[] = [];

  /** Copies `src[start, end)` into the reused array and returns it (valid until the next call). */
  range(src: Float32Array, start: number, end: number): number[] {
    const n = end - start;
    const arr = this.sized(n);
    for (let i = 0; i < n; i++) arr[i] = src[start + i]!;
    return arr;
  }

  /** Copies rows `rows[from, to)` of `src` (row width `d`) into the reused array. */
  rows(src: Float32Array, d: number, rows: ArrayLike<number>, from: number, to: number): number[] {
    const arr = this.sized((to - from) * d);
    let o = 0;
    for (let r = from; r < to; r++) {
      const base = rows[r]! * d;
      for (let j = 0; j < d; j++) arr[o++] = src[base + j]!;
    }
    return arr;
  }

  private sized(n: number): number[] {
    if (this.arr.length !== n) {
      // A fresh array of doubles (PACKED_DOUBLE_ELEMENTS), the fastest kind for the binding to read.
      this.arr = n === 0 ? [] : Array.from(new Float64Array(n));
    }
    return this.arr;
  }
}

/** Raw FAISS results for `nq` queries: labels (−1 = none) and distances, `nq × k` row-major. */
export interface RawResults {
  k: number;
  labels: Float64Array;
  distances: Float32Array;
}

/**
 * Searches `native` with `nq` queries taken from `queries` (rows `rows`, or all rows in order),
 * in bounded chunks. The caller guarantees 1 ≤ k ≤ ntotal (FAISS aborts otherwise).
 */
export function searchInChunks(native: NativeIndex, queries: Float32Array, d: number, k: number, rows?: ArrayLike<number>): RawResults {
  const nq = rows ? rows.length : queries.length / d;
  const labels = new Float64Array(nq * k);
  const distances = new Float32Array(nq * k);
  // Bound both the query array and the two result arrays the binding builds.
  const step = Math.max(1, Math.min(rowsPerChunk(d, QUERY_CHUNK_FLOATS), Math.floor(RESULT_CHUNK_ENTRIES / k)));
  const chunk = new ChunkArray();
  for (let q = 0; q < nq; q += step) {
    const end = Math.min(nq, q + step);
    const x = rows ? chunk.rows(queries, d, rows, q, end) : chunk.range(queries, q * d, end * d);
    const res = native.search(x, k);
    const off = q * k;
    const m = (end - q) * k;
    for (let i = 0; i < m; i++) {
      labels[off + i] = res.labels[i]!;
      distances[off + i] = res.distances[i]!;
    }
  }
  return { k, labels, distances };
}
