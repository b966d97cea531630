/**
 * faiss-node driven directly: `IndexFlatIP` and `IndexIVFFlat` (from the factory string
 * `IVF<nlist>,Flat`, inner product). faiss-node takes `number[]` only, so conversion is timed
 * apart from training and adding. It has no nprobe setter: a copy of the index file gets nprobe
 * written into its IVF header by the adapter's own `patchIvfNprobe` and is read back — the method
 * documented in shared/docs/backends.md. Training uses the adapter's `trainingSample` rows.
 */
import { copyFileSync, rmSync } from 'node:fs';
import faiss from 'faiss-node';
import type { Index as FaissIndex } from 'faiss-node';
import { InvalidArgumentError } from '@pixsearch/core';
import { faissFlatBackend, patchIvfNprobe, trainingSample } from '@pixsearch/index-faiss';
import type { BareDriver, BareIndex, BenchConfig, SweepPoint } from './types.js';

/** Rows converted and added per call (bounds the `number[]` garbage). */
const CHUNK_ROWS = 20_000;

class BareFaiss implements BareIndex {
  constructor(
    readonly index: FaissIndex,
    private readonly dimension: number,
  ) {}
  searchOne(query: Float32Array, k: number): ArrayLike<number> {
    return this.index.search(Array.from(query), k).labels;
  }
  searchBatch(queries: Float32Array, k: number): ArrayLike<number>[] {
    const labels = this.index.search(Array.from(queries), k).labels;
    const nq = queries.length / this.dimension;
    const out: number[][] = [];
    for (let q = 0; q < nq; q++) out.push(labels.slice(q * k, q * k + k));
    return out;
  }
  close(): void {
    // faiss-node frees the native index when the wrapper is garbage-collected.
  }
}

function nlistOf(config: BenchConfig): number {
  const nlist = Number(config.build.nlist);
  if (!Number.isInteger(nlist) || nlist < 1) throw new InvalidArgumentError(`${config.id}: build.nlist must be a positive integer`);
  return nlist;
}

export const bareFaiss: BareDriver = {
  library: faissFlatBackend.library,
  build(config, base, d) {
    const n = base.length / d;
    const ivf = config.backend === 'faiss-ivf';
    const index: FaissIndex = ivf ? faiss.Index.fromFactory(d, `IVF${nlistOf(config)},Flat`, faiss.MetricType.METRIC_INNER_PRODUCT) : new faiss.IndexFlatIP(d);
    let convertMs = 0;
    let trainMs = 0;
    let addMs = 0;
    if (ivf) {
      // The adapter's own training rows, so both train on the same sample.
      const rows = trainingSample(n, nlistOf(config), d);
      let t = performance.now();
      const sample = new Array<number>(rows.length * d);
      for (let i = 0; i < rows.length; i++) {
        const src = rows[i]! * d;
        for (let j = 0; j < d; j++) sample[i * d + j] = base[src + j]!;
      }
      convertMs += performance.now() - t;
      t = performance.now();
      index.train(sample);
      trainMs = performance.now() - t;
    }
    for (let r = 0; r < n; r += CHUNK_ROWS) {
      let t = performance.now();
      const chunk = Array.from(base.subarray(r * d, Math.min(n, r + CHUNK_ROWS) * d));
      convertMs += performance.now() - t;
      t = performance.now();
      index.add(chunk);
      addMs += performance.now() - t;
    }
    return { index: new BareFaiss(index, d), times: { convertMs, trainMs, addMs } };
  },
  save(index, file) {
    (index as BareFaiss).index.write(file);
  },
  async load(config, file, d, point: SweepPoint) {
    if (config.backend !== 'faiss-ivf') return new BareFaiss(faiss.IndexFlatIP.read(file), d);
    const nprobe = Number(point.params.nprobe ?? 1);
    const tmp = `${file}.nprobe${nprobe}.${process.pid}`;
    copyFileSync(file, tmp);
    try {
      await patchIvfNprobe(tmp, nprobe, nlistOf(config));
      return new BareFaiss(faiss.Index.read(tmp), d);
    } finally {
      rmSync(tmp, { force: true });
    }
  },
};
