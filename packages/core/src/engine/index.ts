// @pixsearch/core/engine — the search engine (SQLite catalog, incremental sync, search).
export type * from './types.js';
