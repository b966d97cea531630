// @pixsearch/index-hnsw: the `hnswlib` (hnswlib-node) and `usearch` (USearch) backends.
// Importing this module registers both with core's registry (core's discovery imports it when a
// library needs one: package.json says "pixsearch": { "backend": true }). It loads no native
// library: each backend imports its own on first use.
import { registerBackend, type BackendFactory } from '@pixsearch/core';
import { hnswlibBackend } from './hnswlib-index.js';
import { usearchBackend } from './usearch-index.js';

export { HnswlibIndex, HNSWLIB_DEFAULTS, HNSWLIB_LIBRARY, hnswlibBackend, parseHnswlibParams, type HnswlibParams } from './hnswlib-index.js';
export { UsearchIndex, USEARCH_DEFAULTS, USEARCH_LIBRARY, usearchBackend, parseUsearchParams, type UsearchParams } from './usearch-index.js';
export { LabelMap } from './id-map.js';

/** The backends this package implements (registered on import). */
export const backends: BackendFactory[] = [hnswlibBackend, usearchBackend];

registerBackend(...backends);
