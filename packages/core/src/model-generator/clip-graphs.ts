// CLIP-architecture towers (HF CLIPVisionModelWithProjection / CLIPTextModelWithProjection)
// written as ONNX graphs with seeded random weights.
import { toFloat16Bits } from '../clip/float16.js';
import { DataType } from './onnx-schema.js';
import { attr, GraphBuilder, valueInfo, type ValueInfoObj } from './graph-builder.js';

/** Dimensions of a CLIP model (HF config names in comments). */
export interface ClipSpec {
  /** projection_dim: the embedding dimension of both towers. */
  projectionDim: number;
  vision: { width: number; layers: number; heads: number; mlp: number; patch: number; imageSize: number };
  text: { width: number; layers: number; heads: number; mlp: number; contextLength: number; vocabSize: number };
  /** Declare `attention_mask` as a second text input (some exports do). */
  textAttentionMask?: boolean;
}

/** Deterministic PRNG (xorshift32) producing uniform floats with a given standard deviation. */
export class SeededRandom {
  private state: number;
  constructor(seed: number) {
    this.state = (seed >>> 0) ^ 0x9e3779b9 || 1;
  }
  /** Fills `n` floats uniformly with mean `mean` and standard deviation `std`. */
  floats(n: number, std: number, mean = 0): Float32Array {
    const out = new Float32Array(n);
    const a = std * Math.sqrt(3) * 2;
    let s = this.state;
    for (let i = 0; i < n; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      out[i] = mean + ((s >>> 0) / 4294967296 - 0.5) * a;
    }
    this.state = s;
    return out;
  }
}

/** Weight precision of the linear layers. */
/**
 * Weight variants the generator writes: `fp32`; `fp16` (float16 weights and I/O); `quantized` and
 * `int8` (dynamic quantization with signed int8 weights: onnxruntime's U8S8 kernels, VNNI where
 * the CPU has it); `uint8` (unsigned weights, onnxruntime's older default, slower on x86).
 */
export type WeightVariant = 'fp32' | 'quantized' | 'fp16' | 'int8' | 'uint8';
export const WEIGHT_VARIANTS: readonly WeightVariant[] = ['fp32', 'quantized', 'fp16', 'int8', 'uint8'];


const NEG_INF_MASK = -1e9;

/** Per-tensor asymmetric uint8 quantization (range includes 0), as onnxruntime's quantizer does. */
function quantizeUint8(w: Float32Array): { q: Uint8Array; scale: number; zp: number } {
  let min = 0;
  let max = 0;
  for (const v of w) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const scale = (max - min) / 255 || 1;
  const zp = Math.min(255, Math.max(0, Math.round(-min / scale)));
  const q = new Uint8Array(w.length);
  for (let i = 0; i < w.length; i++) q[i] = Math.min(255, Math.max(0, Math.round(w[i]! / scale) + zp));
  return { q, scale, zp };
}

/** Per-tensor symmetric int8 quantization (zero point 0, range ±127), as onnxruntime's quantizer does for signed weights. */
function quantizeInt8(w: Float32Array): { q: Int8Array; scale: number } {
  let max = 0;
  for (const v of w) if (Math.abs(v) > max) max = Math.abs(v);
  const scale = max / 127 || 1;
  const q = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) q[i] = Math.min(127, Math.max(-127, Math.round(w[i]! / scale)));
  return { q, scale };
}

/** Quantized weights and their zero point in the variant's integer type. */
function quantize(w: Float32Array, signed: boolean): { q: Int8Array | Uint8Array; scale: number; zp: Int8Array | Uint8Array } {
  if (signed) {
    const { q, scale } = quantizeInt8(w);
    return { q, scale, zp: Int8Array.of(0) };
  }
  const { q, scale, zp } = quantizeUint8(w);
  return { q, scale, zp: Uint8Array.of(zp) };
}

class TowerBuilder {
  readonly g = new GraphBuilder();
  constructor(
    private readonly rng: SeededRandom,
    private readonly variant: WeightVariant,
  ) {}

  /** A float weight; the fp16 variant stores it as float16 and casts it to float in the graph. */
  weight(name: string, dims: number[], std: number, mean = 0): string {
    return this.floatInit(name, dims, this.rng.floats(dims.reduce((a, b) => a * b, 1), std, mean));
  }

  floatInit(name: string, dims: number[], data: Float32Array): string {
    if (this.variant !== 'fp16') return this.g.init(name, dims, data);
    const half = this.g.initFloat16(`${name}_fp16`, dims, toFloat16Bits(data));
    return this.g.op('Cast', [half], { to: attr.int(DataType.FLOAT) }, name);
  }

  private get quantized(): boolean {
    return this.variant === 'quantized' || this.variant === 'int8' || this.variant === 'uint8';
  }

  private get signed(): boolean {
    return this.variant !== 'uint8';
  }

  /** Embedding lookup; quantized variants store the table as 8-bit integers and dequantize the gathered rows. */
  embedding(name: string, rows: number, width: number, ids: string): string {
    const table = this.rng.floats(rows * width, 0.5);
    if (!this.quantized) return this.g.op('Gather', [this.floatInit(name, [rows, width], table), ids], { axis: attr.int(0) });
    const { q, scale, zp } = quantize(table, this.signed);
    const gathered = this.g.op('Gather', [this.g.init(`${name}_quantized`, [rows, width], q), ids], { axis: attr.int(0) });
    return this.g.op('DequantizeLinear', [gathered, this.g.init(`${name}_scale`, [], Float32Array.of(scale)), this.g.init(`${name}_zero_point`, [], zp)]);
  }

  /** x[..., in] · W[in, out] (+ b): MatMul, or dynamic quantization (uint8 activations × int8/uint8 weights) like onnxruntime's quantize_dynamic. */
  linear(x: string, name: string, inDim: number, outDim: number, bias: boolean): string {
    const w = this.rng.floats(inDim * outDim, 0.5 / Math.sqrt(inDim));
    let y: string;
    if (!this.quantized) {
      y = this.g.op('MatMul', [x, this.floatInit(`${name}.weight`, [inDim, outDim], w)]);
    } else {
      const { q, scale, zp } = quantize(w, this.signed);
      const wq = this.g.init(`${name}.weight_quantized`, [inDim, outDim], q);
      const wzp = this.g.init(`${name}.weight_zero_point`, [], zp);
      const ws = this.g.init(`${name}.weight_scale`, [], Float32Array.of(scale));
      const [xq, xs, xzp] = this.g.opN('DynamicQuantizeLinear', [x], 3);
      const acc = this.g.op('MatMulInteger', [xq!, wq, xzp!, wzp]);
      const accF = this.g.op('Cast', [acc], { to: attr.int(DataType.FLOAT) });
      y = this.g.op('Mul', [accF, this.g.op('Mul', [xs!, ws])]);
    }
    if (bias) y = this.g.op('Add', [y, this.weight(`${name}.bias`, [outDim], 0.02)]);
    return y;
  }

  layerNorm(x: string, name: string, width: number): string {
    const scale = this.weight(`${name}.weight`, [width], 0.05, 1);
    const bias = this.weight(`${name}.bias`, [width], 0.02);
    return this.g.op('LayerNormalization', [x, scale, bias], { axis: attr.int(-1), epsilon: attr.float(1e-5) });
  }

  /** Multi-head self-attention on x [N, L, width]; `mask` broadcasts to [N, heads, L, L]. */
  attention(x: string, name: string, width: number, heads: number, mask?: string): string {
    const g = this.g;
    const hd = width / heads;
    const split = g.i64([0, 0, heads, hd]);
    const q0 = this.linear(x, `${name}.q_proj`, width, width, true);
    const q = g.op('Mul', [q0, g.f32([1 / Math.sqrt(hd)], true)]);
    const k = this.linear(x, `${name}.k_proj`, width, width, true);
    const v = this.linear(x, `${name}.v_proj`, width, width, true);
    const qh = g.op('Transpose', [g.op('Reshape', [q, split])], { perm: attr.ints([0, 2, 1, 3]) });
    const kt = g.op('Transpose', [g.op('Reshape', [k, split])], { perm: attr.ints([0, 2, 3, 1]) });
    const vh = g.op('Transpose', [g.op('Reshape', [v, split])], { perm: attr.ints([0, 2, 1, 3]) });
    let scores = g.op('MatMul', [qh, kt]);
    if (mask) scores = g.op('Add', [scores, mask]);
    const probs = g.op('Softmax', [scores], { axis: attr.int(-1) });
    const ctx = g.op('Transpose', [g.op('MatMul', [probs, vh])], { perm: attr.ints([0, 2, 1, 3]) });
    const merged = g.op('Reshape', [ctx, g.i64([0, 0, width])]);
    return this.linear(merged, `${name}.out_proj`, width, width, true);
  }

  /** Pre-LN transformer encoder layer with QuickGELU MLP. */
  block(x: string, name: string, width: number, heads: number, mlp: number, mask?: string): string {
    const g = this.g;
    const h1 = this.attention(this.layerNorm(x, `${name}.layer_norm1`, width), `${name}.self_attn`, width, heads, mask);
    const x1 = g.op('Add', [x, h1]);
    const f1 = this.linear(this.layerNorm(x1, `${name}.layer_norm2`, width), `${name}.mlp.fc1`, width, mlp, true);
    const act = g.op('Mul', [f1, g.op('Sigmoid', [g.op('Mul', [f1, g.f32([1.702], true)])])]);
    const f2 = this.linear(act, `${name}.mlp.fc2`, mlp, width, true);
    return g.op('Add', [x1, f2]);
  }
}

export interface TowerGraph {
  nodes: GraphBuilder['nodes'];
  initializers: GraphBuilder['initializers'];
  inputs: ValueInfoObj[];
  outputs: ValueInfoObj[];
}

/** The vision tower: pixel_values [N,3,S,S] → image_embeds [N,projectionDim]. */
export function buildVisionTower(spec: ClipSpec, rng: SeededRandom, variant: WeightVariant): TowerGraph {
  const { width, layers, heads, mlp, patch, imageSize } = spec.vision;
  const t = new TowerBuilder(rng, variant);
  const g = t.g;
  const grid = Math.floor(imageSize / patch);
  const tokens = grid * grid + 1;
  const pre = 'vision_model';
  const pixels = variant === 'fp16' ? g.op('Cast', ['pixel_values'], { to: attr.int(DataType.FLOAT) }) : 'pixel_values';
  const conv = g.op('Conv', [pixels, t.weight(`${pre}.embeddings.patch_embedding.weight`, [width, 3, patch, patch], 1 / Math.sqrt(3 * patch * patch))], {
    kernel_shape: attr.ints([patch, patch]),
    strides: attr.ints([patch, patch]),
  });
  const patches = g.op('Transpose', [g.op('Reshape', [conv, g.i64([0, width, -1])])], { perm: attr.ints([0, 2, 1]) });
  const n = g.op('Slice', [g.op('Shape', [pixels]), g.i64([0]), g.i64([1])]);
  const clsShape = g.op('Concat', [n, g.i64([1, width])], { axis: attr.int(0) });
  const cls = g.op('Expand', [t.weight(`${pre}.embeddings.class_embedding`, [1, 1, width], 0.5), clsShape]);
  let x = g.op('Concat', [cls, patches], { axis: attr.int(1) });
  x = g.op('Add', [x, t.weight(`${pre}.embeddings.position_embedding.weight`, [1, tokens, width], 0.5)]);
  x = t.layerNorm(x, `${pre}.pre_layrnorm`, width);
  for (let i = 0; i < layers; i++) x = t.block(x, `${pre}.encoder.layers.${i}`, width, heads, mlp);
  const pooled = g.op('Gather', [x, g.i64([0], true)], { axis: attr.int(1) });
  const normed = t.layerNorm(pooled, `${pre}.post_layernorm`, width);
  const io = variant === 'fp16' ? DataType.FLOAT16 : DataType.FLOAT;
  const proj = g.op('MatMul', [normed, t.weight('visual_projection.weight', [width, spec.projectionDim], 1 / Math.sqrt(width))], {}, variant === 'fp16' ? 'image_embeds_fp32' : 'image_embeds');
  if (variant === 'fp16') g.op('Cast', [proj], { to: attr.int(DataType.FLOAT16) }, 'image_embeds');
  return {
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: [valueInfo('pixel_values', io, ['batch_size', 3, imageSize, imageSize])],
    outputs: [valueInfo('image_embeds', io, ['batch_size', spec.projectionDim])],
  };
}

/**
 * The text tower: input_ids [N,L] (L ≤ context length, dynamic) → text_embeds [N,projectionDim].
 * The causal mask is built in the graph from L; pooling takes the token at argmax(input_ids)
 * (the end token has the largest id), as CLIP does.
 */
export function buildTextTower(spec: ClipSpec, rng: SeededRandom, variant: WeightVariant): TowerGraph {
  const { width, layers, heads, mlp, contextLength, vocabSize } = spec.text;
  const t = new TowerBuilder(rng, variant);
  const g = t.g;
  const pre = 'text_model';
  const ids = 'input_ids';
  const shape = g.op('Shape', [ids]);
  const seqLen = g.op('Slice', [shape, g.i64([1]), g.i64([2])]);
  const seqScalar = g.op('Squeeze', [seqLen, g.i64([0])]);
  const batchScalar = g.op('Squeeze', [g.op('Slice', [shape, g.i64([0]), g.i64([1])]), g.i64([0])]);
  let x = t.embedding(`${pre}.embeddings.token_embedding.weight`, vocabSize, width, ids);
  const pos = g.op('Slice', [t.weight(`${pre}.embeddings.position_embedding.weight`, [contextLength, width], 0.5), g.i64([0]), seqLen, g.i64([0])]);
  x = g.op('Add', [x, pos]);
  // Causal mask [L, L]: key j > query i → large negative.
  const r = g.op('Range', [g.i64([0], true), seqScalar, g.i64([1], true)]);
  const rows = g.op('Unsqueeze', [r, g.i64([1])]);
  const cols = g.op('Unsqueeze', [r, g.i64([0])]);
  let mask = g.op('Where', [g.op('Greater', [cols, rows]), g.f32([NEG_INF_MASK], true), g.f32([0], true)]);
  if (spec.textAttentionMask) {
    const am = g.op('Cast', ['attention_mask'], { to: attr.int(DataType.FLOAT) });
    const pad = g.op('Mul', [g.op('Sub', [g.f32([1], true), am]), g.f32([NEG_INF_MASK], true)]);
    mask = g.op('Add', [mask, g.op('Unsqueeze', [pad, g.i64([1, 2])])]);
  }
  for (let i = 0; i < layers; i++) x = t.block(x, `${pre}.encoder.layers.${i}`, width, heads, mlp, mask);
  // End-token pooling: row n takes position argmax(input_ids[n]).
  const eot = g.op('ArgMax', [g.op('Cast', [ids], { to: attr.int(DataType.FLOAT) })], { axis: attr.int(1), keepdims: attr.int(0) });
  const base = g.op('Mul', [g.op('Range', [g.i64([0], true), batchScalar, g.i64([1], true)]), seqScalar]);
  const flat = g.op('Reshape', [x, g.i64([-1, width])]);
  const pooled = g.op('Gather', [flat, g.op('Add', [base, eot])], { axis: attr.int(0) });
  const normed = t.layerNorm(pooled, `${pre}.final_layer_norm`, width);
  const proj = g.op('MatMul', [normed, t.weight('text_projection.weight', [width, spec.projectionDim], 1 / Math.sqrt(width))], {}, variant === 'fp16' ? 'text_embeds_fp32' : 'text_embeds');
  if (variant === 'fp16') g.op('Cast', [proj], { to: attr.int(DataType.FLOAT16) }, 'text_embeds');
  const inputs = [valueInfo(ids, DataType.INT64, ['batch_size', 'sequence_length'])];
  if (spec.textAttentionMask) inputs.push(valueInfo('attention_mask', DataType.INT64, ['batch_size', 'sequence_length']));
  return {
    nodes: g.nodes,
    initializers: g.initializers,
    inputs,
    outputs: [valueInfo('text_embeds', variant === 'fp16' ? DataType.FLOAT16 : DataType.FLOAT, ['batch_size', spec.projectionDim])],
  };
}
