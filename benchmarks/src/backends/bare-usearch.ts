/**
 * USearch driven directly: `new Index({dimensions, metric, quantization, connectivity,
 * expansion_add, expansion_search})`, `add(BigUint64Array keys, Float32Array, threads)`,
 * `search(Float32Array, k, threads)`. Vectors pass zero-copy, so there is no conversion cost.
 * Expansion is a constructor argument only: a point's expansion is applied by constructing a
 * fresh `Index` with it and loading the saved file.
 */
import usearch from 'usearch';
import type { Index as UsearchIndex, MetricKind, ScalarKind } from 'usearch';
import { parseUsearchParams, USEARCH_LIBRARY } from '@pixsearch/index-hnsw';
import type { BareDriver, BareIndex, BenchConfig } from './types.js';

class BareUsearch implements BareIndex {
  constructor(
    readonly index: UsearchIndex,
    private readonly dimension: number,
    private readonly threads: number,
  ) {}
  searchOne(query: Float32Array, k: number): ArrayLike<number> {
    const m = this.index.search(query, k, 1);
    const out = new Array<number>(m.keys.length);
    for (let i = 0; i < m.keys.length; i++) out[i] = Number(m.keys[i]!);
    return out;
  }
  searchBatch(queries: Float32Array, k: number): ArrayLike<number>[] {
    const nq = queries.length / this.dimension;
    const res = this.index.search(queries, k, this.threads);
    if (nq === 1) return [Array.from(res.keys, Number)];
    const batch = res as unknown as { keys: BigUint64Array; counts: BigUint64Array };
    const out: number[][] = [];
    for (let q = 0; q < nq; q++) {
      const c = Number(batch.counts[q]!);
      const row = new Array<number>(c);
      for (let i = 0; i < c; i++) row[i] = Number(batch.keys[q * k + i]!);
      out.push(row);
    }
    return out;
  }
  close(): void {
    // Freed by GC.
  }
}

/** A USearch index with the adapter's reading of the build parameters (defaults included). */
function make(config: BenchConfig, d: number, expansionSearch?: number): UsearchIndex {
  const p = parseUsearchParams(config.build, 'cosine');
  return new usearch.Index({
    dimensions: d,
    // The adapter's metric for cosine (unit vectors) is USearch's `cos` too.
    metric: 'cos' as MetricKind,
    quantization: p.quantization as ScalarKind,
    connectivity: p.connectivity,
    expansion_add: p.expansion_add,
    expansion_search: expansionSearch ?? p.expansion_search,
    multi: false,
  });
}

export const bareUsearch: BareDriver = {
  library: USEARCH_LIBRARY,
  build(config, base, d) {
    const n = base.length / d;
    const index = make(config, d);
    const keys = new BigUint64Array(n);
    for (let i = 0; i < n; i++) keys[i] = BigInt(i);
    const t = performance.now();
    index.add(keys, base, 0);
    return { index: new BareUsearch(index, d, 0), times: { convertMs: 0, trainMs: 0, addMs: performance.now() - t } };
  },
  save(index, file) {
    (index as BareUsearch).index.save(file);
  },
  async load(config, file, d, point, threads) {
    const index = make(config, d, point.params.expansion === undefined ? undefined : Number(point.params.expansion));
    index.load(file);
    return new BareUsearch(index, d, threads === 'single' ? 1 : 0);
  },
};
