/**
 * hnswlib-node driven directly: `HierarchicalNSW('ip', d)`, `initIndex(n, M, efConstruction,
 * seed)`, one `addPoint(number[], label)` per vector, `setEf`, `searchKnn(number[], k)`.
 * There is no batch call and the library is single-threaded, so "batch" is a loop on one core.
 * Conversion to `number[]` is timed apart from graph construction (in blocks, so the garbage
 * stays bounded).
 */
import hnswlib from 'hnswlib-node';
import type { HierarchicalNSW } from 'hnswlib-node';
import { HNSWLIB_LIBRARY, HNSWLIB_SEED, parseHnswlibParams } from '@pixsearch/index-hnsw';
import type { BareDriver, BareIndex } from './types.js';

const CHUNK_ROWS = 10_000;

class BareHnsw implements BareIndex {
  constructor(
    readonly index: HierarchicalNSW,
    private readonly dimension: number,
  ) {}
  searchOne(query: Float32Array, k: number): ArrayLike<number> {
    return this.index.searchKnn(Array.from(query), k).neighbors;
  }
  searchBatch(queries: Float32Array, k: number): ArrayLike<number>[] {
    const d = this.dimension;
    const out: number[][] = [];
    for (let o = 0; o < queries.length; o += d) out.push(this.index.searchKnn(Array.from(queries.subarray(o, o + d)), k).neighbors);
    return out;
  }
  close(): void {
    // Freed by GC.
  }
}

export const bareHnswlib: BareDriver = {
  library: HNSWLIB_LIBRARY,
  build(config, base, d) {
    const n = base.length / d;
    // The adapter's own reading of the build parameters (defaults included) and its level seed.
    const { M, efConstruction } = parseHnswlibParams(config.build);
    const index = new hnswlib.HierarchicalNSW('ip', d);
    index.initIndex(n, M, efConstruction, HNSWLIB_SEED);
    let convertMs = 0;
    let addMs = 0;
    for (let r = 0; r < n; r += CHUNK_ROWS) {
      const rows = Math.min(CHUNK_ROWS, n - r);
      let t = performance.now();
      const arrays: number[][] = new Array<number[]>(rows);
      for (let i = 0; i < rows; i++) arrays[i] = Array.from(base.subarray((r + i) * d, (r + i + 1) * d));
      convertMs += performance.now() - t;
      t = performance.now();
      for (let i = 0; i < rows; i++) index.addPoint(arrays[i]!, r + i);
      addMs += performance.now() - t;
    }
    return { index: new BareHnsw(index, d), times: { convertMs, trainMs: 0, addMs } };
  },
  save(index, file) {
    (index as BareHnsw).index.writeIndexSync(file);
  },
  async load(config, file, d, point) {
    const index = new hnswlib.HierarchicalNSW('ip', d);
    index.readIndexSync(file);
    // readIndex resets ef to 10: apply the point's efSearch (else the adapter's default) after loading.
    index.setEf(Number(point.params.efSearch ?? parseHnswlibParams(config.build).efSearch));
    return new BareHnsw(index, d);
  },
};
