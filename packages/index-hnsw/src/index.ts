// @pixsearch/index-hnsw: the `hnswlib` (hnswlib-node) and `usearch` (USearch) backends.
// Importing this module loads no native library: each backend imports its own on first use.
import type { BackendFactory } from '@pixsearch/core';
import { hnswlibBackend } from './hnswlib-index.js';
import { usearchBackend } from './usearch-index.js';

export { HnswlibIndex, HNSWLIB_DEFAULTS, HNSWLIB_LIBRARY, hnswlibBackend, parseHnswlibParams, type HnswlibParams } from './hnswlib-index.js';
export { UsearchIndex, USEARCH_DEFAULTS, USEARCH_LIBRARY, usearchBackend, parseUsearchParams, type UsearchParams } from './usearch-index.js';
export { LabelMap } from './id-map.js';

/** The backends this package implements; core's registry registers them on import. */
export const backends: BackendFactory[] = [hnswlibBackend, usearchBackend];
