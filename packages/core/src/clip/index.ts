// @pixsearch/core/clip — CLIP embedder on onnxruntime-node + sharp (loads native modules).
export { ClipEmbedder, DEFAULT_TEXT_THREADS, defaultDecodeSizing, type ClipEmbedderOptions } from './clip-embedder.js';
export { CANONICAL_VARIANTS, canonicalVariant, isModelVariant, MODEL_VARIANTS, readBundleInfo, readPreprocessConfig, requiredFiles, towerFile, type BundleInfo, type ModelVariant, type Tower } from './bundle.js';
export {
  cachedModelDir,
  DEFAULT_HUB_URL,
  DEFAULT_MODEL,
  DEFAULT_VARIANTS,
  defaultCacheDir,
  downloadFile,
  isHubId,
  listCachedModels,
  pullModel,
  resolveModel,
  type CachedModel,
  type DownloadFileOptions,
  type DownloadProgress,
  type ResolveModelOptions,
} from './model-cache.js';
export {
  CLIP_PREPROCESS,
  decodeImage,
  outputSize,
  parsePreprocessorConfig,
  preprocessImage,
  resizedSize,
  transformRgb,
  type DecodedImage,
  type DecodeOptions,
  type PreprocessConfig,
  type PreprocessedImage,
} from './preprocess.js';
export { resampleRgb, type ResampleFilter } from './resample.js';
export { cleanText } from './text-clean.js';
export { bytesToUnicode, ClipTokenizer, DEFAULT_CONTEXT_LENGTH, END_OF_TEXT, loadTokenizer, START_OF_TEXT, tokenize, type TokenizedBatch, type TokenizeOptions } from './tokenizer.js';
export { availableExecutionProviders, SessionWorker, type ValueMeta, type WireTensor } from './session-worker.js';
export { DEFAULT_REDUCING_GAP, type TransformOptions } from './preprocess.js';
