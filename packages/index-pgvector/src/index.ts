// @pixsearch/index-pgvector — the `pgvector` backend: vectors in a PostgreSQL table with pgvector
// (HNSW or IVFFlat, vector or halfvec). Registers itself on import. The catalog lives in
// `@pixsearch/index-pgvector/catalog`, the distributed job queue in `/queue`.
import { registerBackend, type RemoteBackendFactory } from '@pixsearch/core';
import { BUILD_PARAMS, SEARCH_PARAMS } from './params.js';
import { PgvectorIndex } from './pgvector-index.js';

/** Environment variable the connection string is read from (a library's database). */
export const PGVECTOR_CONNECTION_ENV = 'PIXSEARCH_PG_URL';

export const pgvectorBackend: RemoteBackendFactory = {
  name: 'pgvector',
  persistence: 'remote',
  library: 'pgvector@0.8 (server) via pg@8',
  description: 'PostgreSQL + pgvector: HNSW or IVFFlat, vector or halfvec; shared by every process of a scaled-out library',
  capabilities: { exact: false, remove: true, searchParams: SEARCH_PARAMS, metrics: ['cosine', 'l2'] },
  buildParams: BUILD_PARAMS,
  connectionEnv: PGVECTOR_CONNECTION_ENV,
  open: (options) => PgvectorIndex.open(options),
  drop: (options) => PgvectorIndex.drop(options),
};

/** Backends implemented by this package. */
export const backends = [pgvectorBackend];
registerBackend(...backends);

export { PgvectorIndex, VECTOR_SCHEMA, type PgvectorFilter } from './pgvector-index.js';
export { BUILD_PARAMS, SEARCH_PARAMS, resolveParams, type PgvectorParams } from './params.js';
export { encodeCopyRows } from './copy-binary.js';
