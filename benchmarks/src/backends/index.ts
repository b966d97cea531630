import { bareFaiss } from './bare-faiss.js';
import { bareHnswlib } from './bare-hnswlib.js';
import { bareUsearch } from './bare-usearch.js';
import type { BareDriver, BenchBackend } from './types.js';

/** The bare-library driver for a backend (the library the adapter wraps, called directly). */
export function bareDriver(backend: BenchBackend): BareDriver {
  switch (backend) {
    case 'faiss-flat':
    case 'faiss-ivf':
      return bareFaiss;
    case 'hnswlib':
      return bareHnswlib;
    case 'usearch':
      return bareUsearch;
    default:
      // exact and auto: measured by `pnpm --filter @pixsearch/benchmarks exact-scan` and the engine query.
      throw new Error(`no bare-library driver for backend "${backend}"`);
  }
}

export { BENCH_BACKENDS } from './types.js';
export type { BareDriver, BareIndex, BareBuildTimes, BenchBackend, BenchConfig, SweepPoint } from './types.js';
