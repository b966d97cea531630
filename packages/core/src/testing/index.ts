// @pixsearch/core/testing — the VectorIndex conformance suite and test data helpers (vectors, image files).
// Imports vitest: use it from test files only.
export { describeVectorIndexConformance, type ConformanceCase, type ConformanceOptions } from './conformance/index.js';
export { catalogRow, describeCatalogConformance, type CatalogConformanceOptions } from './catalog-conformance.js';
export {
  bruteForceTopK,
  clusterModel,
  clusteredDataset,
  exactTopK,
  gaussian,
  mulberry32,
  randomUnitVectors,
  recallAtK,
  sampleClusters,
  type BruteForceOptions,
  type ClusterModel,
  type ClusteredOptions,
} from './datasets.js';
export { ensureTinyBundle } from './tiny-model.js';
export { bombPng, pngChunk, rawLikeTiff, type RawLikeTiffOptions } from './images.js';
export {
  DEFAULT_TEST_IMAGE_SIZE,
  drawTestImage,
  testImageFormat,
  testImageNames,
  testScene,
  writeTestImage,
  writeTestImages,
  writeTestLibrary,
  type TestImageFormat,
  type TestImageSize,
  type TestLibraryImage,
  type WriteTestImagesOptions,
} from './image-files.js';
export { writeSyntheticLibrary, type SyntheticLibraryOptions } from './synthetic-library.js';
