// Model bundles in the Hugging Face ONNX layout used by the Transformers.js CLIP repositories
// (e.g. Xenova/clip-vit-base-patch32): onnx/{vision,text}_model[_quantized|_fp16].onnx,
// tokenizer.json, preprocessor_config.json, config.json.
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { ModelBundleError } from '../errors.js';
import { parsePreprocessorConfig, type PreprocessConfig } from './preprocess.js';
import { DEFAULT_CONTEXT_LENGTH } from './tokenizer.js';

/**
 * Weight precision of a tower file, named as Transformers.js v3 names its `dtype`s, with the file
 * each maps to in the Hugging Face layout: `fp32` → `onnx/{tower}_model.onnx`, `fp16` →
 * `_fp16.onnx`, `int8` → `_int8.onnx`, `uint8` → `_uint8.onnx`, `q8` (alias `quantized`) →
 * `_quantized.onnx`.
 */
export type ModelVariant = 'fp32' | 'fp16' | 'int8' | 'uint8' | 'q8' | 'quantized';
export type Tower = 'vision' | 'text';
/** Every accepted variant name (`q8` and `quantized` name the same file). */
export const MODEL_VARIANTS: readonly ModelVariant[] = ['fp32', 'fp16', 'int8', 'uint8', 'q8', 'quantized'];
/** One name per file: the names a bundle's present variants are reported under. */
export const CANONICAL_VARIANTS: readonly ModelVariant[] = ['fp32', 'quantized', 'fp16', 'int8', 'uint8'];

const SUFFIX: Record<ModelVariant, string> = { fp32: '', fp16: '_fp16', int8: '_int8', uint8: '_uint8', q8: '_quantized', quantized: '_quantized' };

/** True for a known variant name. */
export function isModelVariant(v: unknown): v is ModelVariant {
  return typeof v === 'string' && (MODEL_VARIANTS as readonly string[]).includes(v);
}

/** The name a variant is stored under (`q8` → `quantized`, the others unchanged). */
export function canonicalVariant(v: ModelVariant): ModelVariant {
  return v === 'q8' ? 'quantized' : v;
}

/** Bundle-relative path of a tower file, e.g. `onnx/text_model_quantized.onnx`. */
export function towerFile(tower: Tower, variant: ModelVariant): string {
  return `onnx/${tower}_model${SUFFIX[variant]}.onnx`;
}

/** Bundle-relative files a model needs for the given tower variants. */
export function requiredFiles(variants: { vision?: ModelVariant | null; text?: ModelVariant | null }): string[] {
  const files: string[] = [];
  if (variants.vision) files.push(towerFile('vision', variants.vision));
  if (variants.text) files.push(towerFile('text', variants.text));
  files.push('config.json', 'preprocessor_config.json');
  if (variants.text) files.push('tokenizer.json');
  return files;
}

/** What a bundle folder holds. */
export interface BundleInfo {
  folder: string;
  /** Absolute paths of the tower files present, by variant. */
  vision: Partial<Record<ModelVariant, string>>;
  text: Partial<Record<ModelVariant, string>>;
  hasTokenizer: boolean;
  hasPreprocessorConfig: boolean;
  hasConfig: boolean;
  /** Embedding dimension from config.json (projection_dim), when declared. */
  projectionDim: number | undefined;
  /** Text context length (text_config.max_position_embeddings, default 77). */
  contextLength: number;
  /** Image size the vision tower expects (vision_config.image_size), when declared. */
  imageSize: number | undefined;
  /** config.json's `_name_or_path`, when present. */
  name: string | undefined;
}

async function exists(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/** Reads and parses a JSON file of the bundle; ModelBundleError when missing or malformed. */
export async function readBundleJson(folder: string, rel: string): Promise<unknown> {
  const file = path.join(folder, rel);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ModelBundleError(`model bundle ${folder} has no ${rel}`, { cause: err, hint: `put ${rel} into ${folder}` });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ModelBundleError(`${file} is not valid JSON`, { cause: err });
  }
}

function positiveInt(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined;
}

/**
 * Describes a bundle folder: which tower files and variants it has, and the dimensions its
 * config.json declares. Throws ModelBundleError when the folder does not exist, or when
 * config.json declares different projection dimensions for the two towers.
 */
export async function readBundleInfo(folder: string): Promise<BundleInfo> {
  const abs = path.resolve(folder);
  try {
    if (!(await stat(abs)).isDirectory()) throw new Error('not a directory');
  } catch (err) {
    throw new ModelBundleError(`model folder ${abs} does not exist`, { cause: err });
  }
  const onnxFiles = new Set(await readdir(path.join(abs, 'onnx')).catch(() => [] as string[]));
  const vision: BundleInfo['vision'] = {};
  const text: BundleInfo['text'] = {};
  for (const v of CANONICAL_VARIANTS) {
    if (onnxFiles.has(path.basename(towerFile('vision', v)))) vision[v] = path.join(abs, towerFile('vision', v));
    if (onnxFiles.has(path.basename(towerFile('text', v)))) text[v] = path.join(abs, towerFile('text', v));
  }
  const hasConfig = await exists(path.join(abs, 'config.json'));
  let projectionDim: number | undefined;
  let contextLength = DEFAULT_CONTEXT_LENGTH;
  let imageSize: number | undefined;
  let name: string | undefined;
  if (hasConfig) {
    const cfg = (await readBundleJson(abs, 'config.json')) as Record<string, unknown> | null;
    if (typeof cfg !== 'object' || cfg === null) throw new ModelBundleError(`${abs}/config.json is not an object`);
    const tc = (cfg.text_config ?? {}) as Record<string, unknown>;
    const vc = (cfg.vision_config ?? {}) as Record<string, unknown>;
    const dims = [positiveInt(cfg.projection_dim), positiveInt(tc.projection_dim), positiveInt(vc.projection_dim)].filter((d): d is number => d !== undefined);
    if (new Set(dims).size > 1) {
      throw new ModelBundleError(`${abs}/config.json declares different projection dimensions (${dims.join(' vs ')}): the towers do not share an embedding space`);
    }
    projectionDim = dims[0];
    contextLength = positiveInt(tc.max_position_embeddings) ?? DEFAULT_CONTEXT_LENGTH;
    imageSize = positiveInt(vc.image_size);
    name = typeof cfg._name_or_path === 'string' ? cfg._name_or_path : undefined;
  }
  return {
    folder: abs,
    vision,
    text,
    hasTokenizer: await exists(path.join(abs, 'tokenizer.json')),
    hasPreprocessorConfig: await exists(path.join(abs, 'preprocessor_config.json')),
    hasConfig,
    projectionDim,
    contextLength,
    imageSize,
    name,
  };
}

/** Reads and parses the bundle's preprocessor_config.json. */
export async function readPreprocessConfig(folder: string): Promise<PreprocessConfig> {
  return parsePreprocessorConfig(await readBundleJson(folder, 'preprocessor_config.json'));
}
