import type { VectorIndex } from '@pixsearch/core';
import { describeVectorIndexConformance } from '@pixsearch/core/testing';
import { afterAll, beforeAll } from 'vitest';
import { PgvectorIndex } from '../src/index.js';
import { vectorServer } from './pg-env.js';

// One pgvector server for the file: PGlite (pgvector 0.8.7, WASM) over pglite-socket, or the
// server named by PIXSEARCH_TEST_PG_URL. PGlite is slow and single-connection: the recall case
// runs on a smaller dataset (2000 × 64) there, the full 20k × 512 one against a real server.
let server: Awaited<ReturnType<typeof vectorServer>>;
beforeAll(async () => {
  server = await vectorServer();
});
afterAll(async () => {
  await server?.stop();
});

let n = 0;
const recallSize = () => (server?.pglite === false ? undefined : { n: 2000, dimension: 64, queries: 50 });

for (const [label, extra] of [
  ['hnsw', {}],
  ['hnsw-halfvec', { type: 'halfvec' }],
  ['ivfflat', { index: 'ivfflat', lists: 20 }],
] as const) {
  describeVectorIndexConformance({
    name: `pgvector-${label}`,
    create: (o) =>
      PgvectorIndex.open({ ...o, params: { ...extra, ...o.params }, name: `conf_${label.replace('-', '_')}_${++n}_${process.pid}`, connection: server.url }),
    // Closed and opened again by name: the same table, the same vectors.
    reopen: (idx: VectorIndex) =>
      PgvectorIndex.open({ name: (idx as PgvectorIndex).name, dimension: idx.dimension, metric: idx.metric, params: { ...idx.params }, connection: server.url }),
    // halfvec keeps 11 bits of mantissa: scores carry ~1e-3 of error.
    ...(label === 'hnsw-halfvec' ? { scoreTolerance: 5e-3 } : {}),
    ...(label === 'ivfflat' ? { recallParams: { probes: 10 } } : {}),
    get recallSize() {
      return recallSize();
    },
  });
}
