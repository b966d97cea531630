// @pixsearch/index-faiss — the faiss-flat and faiss-ivf backends (faiss-node).
// Importing this package registers both backends with core's registry (core's discovery imports
// it when a library needs one: package.json says "pixsearch": { "backend": true }); faiss-node
// itself loads only when an index is created or loaded.
import { registerBackend, type BackendFactory } from '@pixsearch/core';
import { faissFlatBackend, faissIvfBackend } from './backends.js';

export { faissFlatBackend, faissIvfBackend } from './backends.js';
export { COMPACT_FRACTION, FaissFlatIndex } from './flat-index.js';
export { FaissIvfIndex } from './ivf-index.js';
export { AUTO_MIN_TRAIN, autoNlist, autoNprobe, DEFAULT_TRAIN_AT, MIN_POINTS_PER_LIST, parseIvfParams, trainingRows, trainingSample, type IvfSettings } from './ivf-params.js';
export { IVF_NPROBE_OFFSET, patchIvfNprobe } from './faiss-file.js';

/** Backends implemented by this package, for `registerBackend(...backends)`. */
export const backends: BackendFactory[] = [faissFlatBackend, faissIvfBackend];

registerBackend(...backends);
