// Brute-force k-NN over a Float32Array in JS, in FAISS's result convention (labels are row
// numbers, −1 padded; distances are inner products or squared L2). Serves an IVF index before it
// has enough vectors to train.
import type { RawResults } from './faiss-convert.js';
import type { FaissMetric } from './faiss-file.js';

/**
 * Top-`k` rows of `data` (`rows × d`) for each query (rows `queryRows` of `queries`, or all).
 * Requires 1 ≤ k ≤ rows.
 */
export function exactSearch(
  data: Float32Array,
  rows: number,
  d: number,
  metric: FaissMetric,
  queries: Float32Array,
  k: number,
  queryRows?: ArrayLike<number>,
): RawResults {
  const nq = queryRows ? queryRows.length : queries.length / d;
  const labels = new Float64Array(nq * k).fill(-1);
  const distances = new Float32Array(nq * k);
  // Min-heap on "goodness" (higher = better) of the best k seen so far.
  const heapG = new Float64Array(k);
  const heapL = new Float64Array(k);
  for (let qi = 0; qi < nq; qi++) {
    const q = (queryRows ? queryRows[qi]! : qi) * d;
    let size = 0;
    for (let r = 0; r < rows; r++) {
      const o = r * d;
      let g = 0;
      if (metric === 'ip') {
        for (let j = 0; j < d; j++) g += queries[q + j]! * data[o + j]!;
      } else {
        for (let j = 0; j < d; j++) {
          const t = queries[q + j]! - data[o + j]!;
          g -= t * t;
        }
      }
      if (size < k) {
        // Sift up.
        let i = size++;
        while (i > 0) {
          const p = (i - 1) >> 1;
          if (heapG[p]! <= g) break;
          heapG[i] = heapG[p]!;
          heapL[i] = heapL[p]!;
          i = p;
        }
        heapG[i] = g;
        heapL[i] = r;
      } else if (g > heapG[0]!) {
        // Replace the root and sift down.
        let i = 0;
        for (;;) {
          const a = 2 * i + 1;
          if (a >= k) break;
          const b = a + 1;
          const c = b < k && heapG[b]! < heapG[a]! ? b : a;
          if (heapG[c]! >= g) break;
          heapG[i] = heapG[c]!;
          heapL[i] = heapL[c]!;
          i = c;
        }
        heapG[i] = g;
        heapL[i] = r;
      }
    }
    const order = Array.from({ length: size }, (_, i) => i).sort((x, y) => heapG[y]! - heapG[x]! || heapL[x]! - heapL[y]!);
    for (let i = 0; i < size; i++) {
      const h = order[i]!;
      labels[qi * k + i] = heapL[h]!;
      distances[qi * k + i] = metric === 'ip' ? heapG[h]! : -heapG[h]!;
    }
  }
  return { k, labels, distances };
}
