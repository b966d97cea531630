// @pixsearch/index-pgvector/catalog — the library catalog in PostgreSQL (core's Catalog interface).
export { CATALOG_SCHEMA, POSTGRES_CATALOG_SCHEMA_VERSION, PostgresCatalog, PgQueryError, redactUrl } from './postgres-catalog.js';
export { SyncPgClient, type SyncResult } from './sync-client.js';
