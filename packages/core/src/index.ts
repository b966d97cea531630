// @pixsearch/core: interfaces, errors and helpers. Loads no native module: the CLIP embedder
// (`@pixsearch/core/clip`), the model generator (`/model-generator`), the engine (`/engine`)
// and the conformance suite (`/testing`) are separate entry points.
export * from './errors.js';
export type * from './vector-index.js';
export type * from './embedder.js';
export {
  BACKENDS_ENV,
  createIndex,
  discoverBackends,
  getBackend,
  listBackends,
  loadIndex,
  registerBackend,
  registeredBackends,
  resolveConnection,
  type RemoteCreateOptions,
} from './index-registry.js';
export { checkNoSecrets, checkParam, checkSearchParams, describeParams } from './params.js';
export { MANIFEST_FILE, indexDataFile, readIndexManifest, saveIndexDir, sha256File, type DataFileWriter } from './index-files.js';
export { checkGeometry, checkIds, checkK, checkVectors, dotRows, MAX_ID, normalizeRows } from './vectors.js';
export { fsyncDir, tempPathFor, writeFileAtomic } from './atomic-write.js';
export { decodeIdMap, EMPTY_SLOT, encodeIdMap, ID_MAP_HEADER_BYTES, type DecodedIdMap } from './id-map-file.js';
export { SerialQueue, Yielder, YIELD_EVERY_MS, yieldToEventLoop } from './serial-queue.js';
export { assertRegularFile, openRegularFile, openRegularFileSync } from './regular-file.js';
export { isRawFileName, RAW_EXTENSIONS } from './clip/raw-preview.js';
export { parseDateBound } from './engine/filter.js';
