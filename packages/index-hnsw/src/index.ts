// @pixsearch/index-hnsw: the `hnswlib` (hnswlib-node), `usearch` (USearch HNSW), `exact` (USearch's
// SIMD brute-force kernel in worker threads) and `auto` (exact, then HNSW above a size) backends.
// Importing this module registers them with core's registry (core's discovery imports it when a
// library needs one: package.json says "pixsearch": { "backend": true }). It loads no native
// library: each backend imports its own on first use.
import { registerBackend, type BackendFactory } from '@pixsearch/core';
import { autoBackend } from './auto-index.js';
import { exactBackend } from './exact-index.js';
import { hnswlibBackend } from './hnswlib-index.js';
import { usearchBackend } from './usearch-index.js';

export { HnswlibIndex, HNSWLIB_DEFAULTS, HNSWLIB_LIBRARY, HNSWLIB_SEED, hnswlibBackend, parseHnswlibParams, type HnswlibParams } from './hnswlib-index.js';
export { UsearchIndex, USEARCH_DEFAULTS, USEARCH_LIBRARY, usearchBackend, parseUsearchParams, type UsearchParams } from './usearch-index.js';
export { AUTO_DEFAULTS, AUTO_EXACT_BYTES, AutoIndex, autoBackend, autoThreshold, parseAutoParams, type AutoParams } from './auto-index.js';
export { EXACT_DEFAULTS, ExactIndex, exactBackend, parseExactParams, type ExactParams } from './exact-index.js';
export { LabelMap } from './id-map.js';

/** The backends this package implements (registered on import). */
export const backends: BackendFactory[] = [hnswlibBackend, usearchBackend, exactBackend, autoBackend];

registerBackend(...backends);

