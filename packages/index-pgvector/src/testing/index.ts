// @pixsearch/index-pgvector/testing — throwaway servers for tests and benchmarks.
export { findPgBin, freePort, startPgCluster, type PgCluster } from './pg-cluster.js';
export { startPgliteServer, type PgliteServer } from './pglite-server.js';
export { waitFor } from './wait-for.js';
