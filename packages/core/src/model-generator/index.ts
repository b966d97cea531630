// @pixsearch/core/model-generator — writes CLIP-architecture ONNX bundles with seeded random
// weights, in the Hugging Face ONNX layout of the Transformers.js CLIP repositories.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';
import { InvalidArgumentError } from '../errors.js';
import { buildTextTower, buildVisionTower, SeededRandom, WEIGHT_VARIANTS, type ClipSpec, type TowerGraph, type WeightVariant } from './clip-graphs.js';
import { modelProtoType } from './onnx-schema.js';
import { END_ID, SMALL_VOCAB_SIZE, smallTokenizerJson, START_ID } from './small-vocab.js';

export type { ClipSpec, WeightVariant } from './clip-graphs.js';
export { WEIGHT_VARIANTS } from './clip-graphs.js';

/** Bumped whenever generated bundles change (test caches key on it). */
export const GENERATOR_VERSION = 3;
export { modelProtoType } from './onnx-schema.js';

/** Model presets: `tiny` for tests (a few MB, generated in about a second), `vit-b-32` with ViT-B/32's exact dimensions (~600 MB fp32). */
export type BundlePreset = 'tiny' | 'vit-b-32';

export const PRESETS: Readonly<Record<BundlePreset, ClipSpec>> = {
  tiny: {
    projectionDim: 32,
    vision: { width: 64, layers: 2, heads: 2, mlp: 128, patch: 32, imageSize: 224 },
    text: { width: 32, layers: 2, heads: 2, mlp: 64, contextLength: 77, vocabSize: SMALL_VOCAB_SIZE },
  },
  'vit-b-32': {
    projectionDim: 512,
    vision: { width: 768, layers: 12, heads: 12, mlp: 3072, patch: 32, imageSize: 224 },
    text: { width: 512, layers: 12, heads: 8, mlp: 2048, contextLength: 77, vocabSize: SMALL_VOCAB_SIZE },
  },
};

export interface GenerateBundleOptions {
  preset: BundlePreset;
  /** Output folder (created). Existing files of the same names are replaced atomically. */
  out: string;
  /** Weight seed (default 0): the same seed gives byte-identical files. */
  seed?: number;
  /**
   * Which weight variants to write (default fp32 and quantized): `fp32` → `*_model.onnx`,
   * `quantized` → `*_model_quantized.onnx` and `int8` → `*_model_int8.onnx` (dynamically
   * quantized MatMuls with signed int8 weights), `uint8` → `*_model_uint8.onnx` (unsigned
   * weights), `fp16` → `*_model_fp16.onnx` (float16 weights and float16 pixel_values / embeddings).
   */
  variants?: WeightVariant[];
  /** Override preset dimensions (tests: mismatched towers, attention-mask input). */
  overrides?: { projectionDim?: number; textAttentionMask?: boolean; vision?: Partial<ClipSpec['vision']>; text?: Partial<ClipSpec['text']> };
  /** Called as each file is written. */
  onProgress?: (p: { file: string; done: number; total: number }) => void;
}

/** Serializes one tower as an ONNX ModelProto (opset 17, IR 8). */
export function encodeTowerModel(tower: TowerGraph, name: string): Uint8Array {
  const model = {
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    producer_name: 'pixsearch-model-generator',
    producer_version: '1',
    graph: {
      name,
      node: tower.nodes,
      initializer: tower.initializers,
      input: tower.inputs,
      output: tower.outputs,
    },
  };
  return modelProtoType().encode(model).finish();
}

function configJson(spec: ClipSpec, preset: BundlePreset): object {
  return {
    _name_or_path: `pixsearch/generated-${preset}`,
    architectures: ['CLIPModel'],
    model_type: 'clip',
    projection_dim: spec.projectionDim,
    logit_scale_init_value: 2.6592,
    initializer_factor: 1.0,
    text_config: {
      model_type: 'clip_text_model',
      hidden_size: spec.text.width,
      intermediate_size: spec.text.mlp,
      num_attention_heads: spec.text.heads,
      num_hidden_layers: spec.text.layers,
      max_position_embeddings: spec.text.contextLength,
      vocab_size: spec.text.vocabSize,
      hidden_act: 'quick_gelu',
      layer_norm_eps: 1e-5,
      projection_dim: spec.projectionDim,
      bos_token_id: START_ID,
      eos_token_id: END_ID,
      pad_token_id: 1,
    },
    vision_config: {
      model_type: 'clip_vision_model',
      hidden_size: spec.vision.width,
      intermediate_size: spec.vision.mlp,
      num_attention_heads: spec.vision.heads,
      num_hidden_layers: spec.vision.layers,
      image_size: spec.vision.imageSize,
      patch_size: spec.vision.patch,
      num_channels: 3,
      hidden_act: 'quick_gelu',
      layer_norm_eps: 1e-5,
      projection_dim: spec.projectionDim,
    },
    pixsearch_generated: { preset, note: 'random weights: embeddings carry no meaning' },
  };
}

function preprocessorJson(spec: ClipSpec): object {
  return {
    crop_size: { height: spec.vision.imageSize, width: spec.vision.imageSize },
    do_center_crop: true,
    do_convert_rgb: true,
    do_normalize: true,
    do_rescale: true,
    do_resize: true,
    feature_extractor_type: 'CLIPFeatureExtractor',
    image_processor_type: 'CLIPImageProcessor',
    image_mean: [0.48145466, 0.4578275, 0.40821073],
    image_std: [0.26862954, 0.26130258, 0.27577711],
    resample: 3,
    rescale_factor: 1 / 255,
    size: { shortest_edge: spec.vision.imageSize },
  };
}

/** The spec a preset resolves to after overrides. */
export function resolveSpec(preset: BundlePreset, overrides: GenerateBundleOptions['overrides'] = {}): ClipSpec {
  const base = PRESETS[preset];
  if (!base) throw new InvalidArgumentError(`unknown model preset "${String(preset)}" (expected tiny or vit-b-32)`);
  return {
    projectionDim: overrides.projectionDim ?? base.projectionDim,
    vision: { ...base.vision, ...overrides.vision },
    text: { ...base.text, ...overrides.text },
    textAttentionMask: overrides.textAttentionMask ?? false,
  };
}

/**
 * Writes a CLIP bundle with seeded random weights into `out`:
 * `onnx/{vision,text}_model[_quantized].onnx`, `tokenizer.json`, `tokenizer_config.json`,
 * `preprocessor_config.json`, `config.json` (written last). Returns `out`.
 */
export async function generateBundle(options: GenerateBundleOptions): Promise<string> {
  const spec = resolveSpec(options.preset, options.overrides);
  const seed = options.seed ?? 0;
  const variants = options.variants ?? ['fp32', 'quantized'];
  if (variants.length === 0 || variants.some((v) => !WEIGHT_VARIANTS.includes(v))) {
    throw new InvalidArgumentError(`variants must be a non-empty list of ${WEIGHT_VARIANTS.join('/')}, got ${JSON.stringify(variants)}`);
  }
  const out = path.resolve(options.out);
  await mkdir(path.join(out, 'onnx'), { recursive: true });
  const total = variants.length * 2 + 4;
  let done = 0;
  const write = async (rel: string, data: string | Uint8Array) => {
    await writeFileAtomic(path.join(out, rel), data);
    options.onProgress?.({ file: rel, done: ++done, total });
  };
  for (const variant of variants) {
    const suffix = variant === 'fp32' ? '' : `_${variant}`;
    const vision = buildVisionTower(spec, new SeededRandom(seed * 2 + 1), variant);
    await write(`onnx/vision_model${suffix}.onnx`, encodeTowerModel(vision, 'clip_vision'));
    const text = buildTextTower(spec, new SeededRandom(seed * 2 + 2), variant);
    await write(`onnx/text_model${suffix}.onnx`, encodeTowerModel(text, 'clip_text'));
  }
  await write('tokenizer.json', JSON.stringify(smallTokenizerJson()));
  await write(
    'tokenizer_config.json',
    JSON.stringify({ tokenizer_class: 'CLIPTokenizer', model_max_length: spec.text.contextLength, bos_token: '<|startoftext|>', eos_token: '<|endoftext|>', pad_token: '<|endoftext|>', unk_token: '<|endoftext|>', do_lower_case: true }, null, 2),
  );
  await write('preprocessor_config.json', JSON.stringify(preprocessorJson(spec), null, 2));
  await write('config.json', JSON.stringify(configJson(spec, options.preset), null, 2));
  return out;
}
