// ClipEmbedder: CLIP image and text towers (ONNX, each in its own worker thread, created lazily
// on first use) behind the core Embedder interface.
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { EmbedOptions, Embedder, ImageEmbeddings, ImageInput } from '../embedder.js';
import { AbortedError, ClosedError, DependencyMissingError, ImageDecodeError, InvalidArgumentError, ModelBundleError } from '../errors.js';
import { normalizeRows } from '../vectors.js';
import { canonicalVariant, isModelVariant, MODEL_VARIANTS, readBundleInfo, readBundleJson, readPreprocessConfig, requiredFiles, towerFile, type BundleInfo, type ModelVariant, type Tower } from './bundle.js';
import { DEFAULT_MODEL, DEFAULT_VARIANTS, isHubId, resolveModel, type DownloadProgress } from './model-cache.js';
import { ImagePool } from './image-pool.js';
import { describeInput, outputSize, PREPROCESS_MODES, type PreprocessConfig, type PreprocessMode } from './preprocess.js';
import { availableExecutionProviders, SessionWorker, type ValueMeta, type WireTensor } from './session-worker.js';
import { fromFloat16Bits, toFloat16Bits } from './float16.js';
import { ClipTokenizer } from './tokenizer.js';

export interface ClipEmbedderOptions {
  /** Bundle folder or hub id (default {@link DEFAULT_MODEL}). */
  model?: string;
  /** Model cache folder for hub downloads (default `PIXSEARCH_CACHE` or the XDG cache dir). */
  cacheDir?: string;
  /** Execution device (default `cpu`). `cuda` without onnxruntime's CUDA provider → DependencyMissingError, never a CPU fallback. */
  device?: 'cpu' | 'cuda';
  /** Intra-op threads of the image tower (default: onnxruntime's choice, one per core). */
  threads?: number;
  /**
   * Whether the image tower's onnxruntime threads busy-wait between operators (onnxruntime's
   * default). Default false: spinning threads take the CPU that decode workers need while a batch
   * runs (measured with `benchmarks embed`). The text tower keeps onnxruntime's default.
   */
  visionSpinning?: boolean;
  /**
   * Intra-op threads of the text tower (default {@link DEFAULT_TEXT_THREADS}; 0 = one per core).
   * Queries are a few tokens long: their matrices are too small to split well across threads, and
   * a server runs several queries at once (micro-batched), so one thread per run gets the most
   * queries per CPU second.
   */
  textThreads?: number;
  /** Images per inference batch, 1..256 (default 16). */
  batchSize?: number;
  /** Texts per inference batch, 1..1024 (default 64). */
  textBatchSize?: number;
  /**
   * Tower precisions, named as Transformers.js v3 dtypes: `fp32`, `fp16`, `int8`, `uint8`, `q8`
   * (alias `quantized`). Default: vision fp32, text q8; without a choice, a local folder lacking
   * the default file falls back to another variant present. Part of the model id when not default.
   */
  variant?: { vision?: ModelVariant; text?: ModelVariant };
  onDownloadProgress?: (p: DownloadProgress) => void;
  /** Decompression-bomb guard: images with more pixels are rejected per item (reason `too-large`). Default 0x3FFF² (268 M). */
  limitInputPixels?: number;
  /** Images being decoded at once (default: sized to the cores and the vision dtype, see {@link defaultDecodeSizing}). */
  decodeConcurrency?: number;
  /**
   * How images are decoded and resized (default `scaled`: JPEG files decode DCT-scaled to the
   * smallest size ≥ 2× the model input (PIL's draft() with headroom), then the exact bicubic; `exact`: full
   * decode and PIL's full convolution, bit-exact with the Python reference, several times slower
   * on camera-size photos). Not part of the model id: both paths give vectors within a fraction of a level of each other.
   */
  preprocess?: PreprocessMode;
  /**
   * Worker threads that decode and resize images (default: sized to the cores and the vision
   * dtype, see {@link defaultDecodeSizing}; 0 = on the calling thread). With workers the caller's
   * event loop stays free while a folder is being embedded.
   */
  decodeWorkers?: number;
  /** Hub base URL for downloads (tests, mirrors). */
  hubUrl?: string;
  signal?: AbortSignal;
}

/**
 * Default intra-op threads of the text tower. Measured on the ViT-B/32-size quantized text tower
 * (2-core AMD EPYC, shared): one thread ~4.8 CPU-ms per query alone and ~3.0 in batches of 8,
 * two threads ~9.5 and ~6.7 (the second thread mostly spins), with no lower latency for one
 * query; a server answering 10 connections of unique queries went from 78 to 121 req/s.
 */
export const DEFAULT_TEXT_THREADS = 1;

/**
 * Decode workers and images in flight for a machine and an image-tower precision. Measured with
 * `benchmarks embed` (see benchmarks/README.md) on camera-like JPEGs (~2.4 bits/pixel): a 12-MP
 * JPEG costs ~28 CPU-ms to decode DCT-scaled (libvips, on libuv's thread pool) plus ~3 ms of
 * JavaScript resampling (in the worker), a 2-MP one ~7 + 2, against ~44 CPU-ms per image for the
 * fp32 ViT-B/32 tower and ~16 for int8 (AMD EPYC, VNNI): decoding needs up to 1/3 of the CPU with
 * fp32 and more than half with int8. Most of it runs on libuv's pool, not in the worker's own
 * thread: one worker's JavaScript keeps up with ~300 images/s, so workers grow slowly (1/8 of
 * the cores with fp32, 1/4 with an 8-bit tower); images in flight keep the pool busy and the next
 * batch ready while the model runs. On 2 cores, 2 workers or 8 images in flight measured no
 * faster than 1 worker and 4 for either dtype (the pipeline is CPU-bound there).
 */
export function defaultDecodeSizing(cores: number, visionVariant: ModelVariant): { workers: number; concurrency: number } {
  const eightBit = visionVariant === 'int8' || visionVariant === 'uint8' || visionVariant === 'quantized' || visionVariant === 'q8';
  const share = eightBit ? 1 / 4 : 1 / 8;
  const workers = Math.min(8, Math.max(1, Math.ceil(cores * share)));
  const concurrency = Math.min(32, Math.max(4, Math.ceil(cores * share * 2) + 2 * workers));
  return { workers, concurrency };
}

interface TowerState {
  session: SessionWorker;
  input: ValueMeta;
  /** attention_mask input, when the text graph declares one. */
  mask: ValueMeta | undefined;
  output: ValueMeta;
  /** Fixed batch size declared by the graph, if any. */
  fixedBatch: number | undefined;
  /** Fixed sequence length (text) or image size (vision) declared by the graph, if any. */
  fixedLength: number | undefined;
}

const FALLBACK_ORDER: readonly ModelVariant[] = ['fp32', 'quantized', 'fp16', 'int8', 'uint8'];

function pickVariant(info: BundleInfo, tower: Tower, wanted: ModelVariant | undefined, preferred: ModelVariant): ModelVariant {
  const present = info[tower];
  if (wanted) {
    if (!present[wanted]) {
      throw new ModelBundleError(`model bundle ${info.folder} has no ${towerFile(tower, wanted)}`, {
        hint: `variants present for the ${tower} tower: ${Object.keys(present).join(', ') || 'none'}`,
      });
    }
    return wanted;
  }
  if (present[preferred]) return preferred;
  const other = FALLBACK_ORDER.find((v) => present[v]);
  if (!other) {
    throw new ModelBundleError(`model bundle ${info.folder} has no ${tower} model (expected ${towerFile(tower, preferred)})`, {
      hint: `a CLIP bundle in the Hugging Face ONNX layout has onnx/vision_model.onnx and onnx/text_model.onnx`,
    });
  }
  return other;
}

function asFloat32(t: WireTensor): Float32Array {
  if (t.data instanceof Float32Array) return t.data;
  if (t.data instanceof Uint16Array) return fromFloat16Bits(t.data);
  throw new ModelBundleError(`model output has type ${t.type}, expected float32 or float16`);
}

/**
 * CLIP embedder on onnxruntime-node + sharp. Create with {@link ClipEmbedder.create}; the towers
 * are loaded on first use (a text-only search never loads the vision tower). The caller owns it
 * and must `close()` it.
 */
export class ClipEmbedder implements Embedder {
  readonly modelId: string;
  readonly dimension: number;
  /** The resolved bundle and the variants in use. */
  readonly bundle: BundleInfo;
  readonly variants: { vision: ModelVariant; text: ModelVariant };
  readonly preprocess: PreprocessConfig;
  readonly tokenizer: ClipTokenizer;
  readonly batchSize: number;
  readonly textBatchSize: number;
  private readonly options: ClipEmbedderOptions;
  private readonly towers: Partial<Record<Tower, Promise<TowerState>>> = {};
  private readonly pool: ImagePool;
  /** Decode worker threads, and images decoded at once (see {@link defaultDecodeSizing}). */
  readonly decodeWorkers: number;
  readonly decodeConcurrency: number;
  private closed = false;

  private constructor(init: {
    modelId: string;
    dimension: number;
    bundle: BundleInfo;
    variants: { vision: ModelVariant; text: ModelVariant };
    preprocess: PreprocessConfig;
    tokenizer: ClipTokenizer;
    options: ClipEmbedderOptions;
  }) {
    this.modelId = init.modelId;
    this.dimension = init.dimension;
    this.bundle = init.bundle;
    this.variants = init.variants;
    this.preprocess = init.preprocess;
    this.tokenizer = init.tokenizer;
    this.options = init.options;
    this.batchSize = init.options.batchSize ?? 16;
    this.textBatchSize = init.options.textBatchSize ?? 64;
    const sizing = defaultDecodeSizing(availableParallelism(), init.variants.vision);
    this.decodeWorkers = init.options.decodeWorkers ?? sizing.workers;
    this.decodeConcurrency = init.options.decodeConcurrency ?? sizing.concurrency;
    this.pool = new ImagePool(this.decodeWorkers);
  }

  /**
   * Resolves the model (downloading a hub id into the cache when needed), reads its configs and
   * tokenizer, and checks them. Does not load the ONNX sessions (see {@link load}).
   * Throws ModelBundleError, ModelDownloadError, InvalidArgumentError or DependencyMissingError.
   */
  static async create(options: ClipEmbedderOptions = {}): Promise<ClipEmbedder> {
    const batchSize = options.batchSize ?? 16;
    const textBatchSize = options.textBatchSize ?? 64;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 256) throw new InvalidArgumentError(`batchSize must be an integer in 1..256, got ${batchSize}`);
    if (!Number.isInteger(textBatchSize) || textBatchSize < 1 || textBatchSize > 1024) throw new InvalidArgumentError(`textBatchSize must be an integer in 1..1024, got ${textBatchSize}`);
    if (options.decodeWorkers !== undefined && (!Number.isInteger(options.decodeWorkers) || options.decodeWorkers < 0 || options.decodeWorkers > 64)) {
      throw new InvalidArgumentError(`decodeWorkers must be an integer in 0..64, got ${options.decodeWorkers}`);
    }
    if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 0 || options.threads > 256)) {
      throw new InvalidArgumentError(`threads must be an integer in 0..256, got ${options.threads}`);
    }
    if (options.textThreads !== undefined && (!Number.isInteger(options.textThreads) || options.textThreads < 0 || options.textThreads > 256)) {
      throw new InvalidArgumentError(`textThreads must be an integer in 0..256, got ${options.textThreads}`);
    }
    if (options.preprocess !== undefined && !PREPROCESS_MODES.includes(options.preprocess)) {
      throw new InvalidArgumentError(`preprocess must be one of ${PREPROCESS_MODES.join(', ')}, got ${String(options.preprocess)}`);
    }
    const device = options.device ?? 'cpu';
    if (device !== 'cpu' && device !== 'cuda') throw new InvalidArgumentError(`device must be cpu or cuda, got ${String(device)}`);
    if (device === 'cuda') {
      const eps = await availableExecutionProviders().catch(() => [] as string[]);
      if (!eps.includes('cuda')) {
        throw new DependencyMissingError('onnxruntime-node (CUDA execution provider)', 'running the model on device "cuda"', {
          hint: 'this onnxruntime-node build has no CUDA provider; use device "cpu"',
        });
      }
    }
    for (const tower of ['vision', 'text'] as const) {
      const v = options.variant?.[tower];
      if (v !== undefined && !isModelVariant(v)) throw new InvalidArgumentError(`${tower} dtype must be one of ${MODEL_VARIANTS.join(', ')}, got ${String(v)}`);
    }
    const chosen = {
      vision: options.variant?.vision === undefined ? undefined : canonicalVariant(options.variant.vision),
      text: options.variant?.text === undefined ? undefined : canonicalVariant(options.variant.text),
    };
    const model = options.model ?? DEFAULT_MODEL;
    const wanted = { vision: chosen.vision ?? DEFAULT_VARIANTS.vision, text: chosen.text ?? DEFAULT_VARIANTS.text };
    const folder = await resolveModel(model, {
      ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
      files: requiredFiles(wanted),
      ...(options.onDownloadProgress ? { onProgress: options.onDownloadProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.hubUrl ? { hubUrl: options.hubUrl } : {}),
    });
    const bundle = await readBundleInfo(folder);
    const variants = {
      vision: pickVariant(bundle, 'vision', chosen.vision, DEFAULT_VARIANTS.vision),
      text: pickVariant(bundle, 'text', chosen.text, DEFAULT_VARIANTS.text),
    };
    if (!bundle.hasConfig) throw new ModelBundleError(`model bundle ${folder} has no config.json`, { hint: `put config.json into ${folder}` });
    if (!bundle.projectionDim) throw new ModelBundleError(`${folder}/config.json does not declare projection_dim`);
    const preprocess = await readPreprocessConfig(folder);
    const crop = outputSize(preprocess);
    if (!crop) throw new ModelBundleError(`${folder}/preprocessor_config.json yields no fixed image size (needs crop_size or an exact size)`);
    if (bundle.imageSize && (crop.width !== bundle.imageSize || crop.height !== bundle.imageSize)) {
      throw new ModelBundleError(`${folder}: preprocessor crop ${crop.width}×${crop.height} does not match vision_config.image_size ${bundle.imageSize}`);
    }
    const tokenizer = ClipTokenizer.fromTokenizerJson(await readBundleJson(folder, 'tokenizer.json'), bundle.contextLength);
    const modelId = isHubId(model) && !folder.startsWith(path.resolve(model)) ? model : (bundle.name ?? path.basename(folder));
    return new ClipEmbedder({
      modelId: `${modelId}${variants.vision !== 'fp32' || variants.text !== 'quantized' ? `#vision=${variants.vision},text=${variants.text}` : ''}`,
      dimension: bundle.projectionDim,
      bundle,
      variants,
      preprocess,
      tokenizer,
      options: { ...options, device },
    });
  }

  /** Loads the given towers now (default both) and checks their declared inputs and outputs. */
  async load(towers: readonly Tower[] = ['vision', 'text']): Promise<void> {
    await Promise.all(towers.map((t) => this.tower(t)));
  }

  /** Whether a tower's session has been created (or is being created). */
  isLoaded(tower: Tower): boolean {
    return this.towers[tower] !== undefined;
  }

  private tower(tower: Tower): Promise<TowerState> {
    if (this.closed) return Promise.reject(new ClosedError('embedder'));
    let state = this.towers[tower];
    if (!state) {
      state = this.openTower(tower);
      this.towers[tower] = state;
      // A failed load is not cached: the next call tries again.
      state.catch(() => {
        if (this.towers[tower] === state) delete this.towers[tower];
      });
    }
    return state;
  }

  private async openTower(tower: Tower): Promise<TowerState> {
    const file = this.bundle[tower][this.variants[tower]]!;
    const session = await SessionWorker.open(file, {
      device: this.options.device ?? 'cpu',
      threads: tower === 'text' ? (this.options.textThreads ?? DEFAULT_TEXT_THREADS) : (this.options.threads ?? 0),
      spinning: tower === 'vision' ? (this.options.visionSpinning ?? false) : true,
    });
    try {
      const rel = towerFile(tower, this.variants[tower]);
      const inputName = tower === 'vision' ? 'pixel_values' : 'input_ids';
      const outputName = tower === 'vision' ? 'image_embeds' : 'text_embeds';
      const input = session.inputs.find((i) => i.name === inputName);
      if (!input) throw new ModelBundleError(`${rel} has no input "${inputName}" (inputs: ${session.inputs.map((i) => i.name).join(', ')})`);
      const output = session.outputs.find((o) => o.name === outputName);
      if (!output) throw new ModelBundleError(`${rel} has no output "${outputName}" (outputs: ${session.outputs.map((o) => o.name).join(', ')})`);
      const mask = session.inputs.find((i) => i.name === 'attention_mask');
      const known = new Set([inputName, 'attention_mask']);
      const extra = session.inputs.filter((i) => !known.has(i.name));
      if (extra.length > 0) throw new ModelBundleError(`${rel} has unexpected inputs: ${extra.map((i) => i.name).join(', ')}`);
      const outDim = output.shape[output.shape.length - 1];
      if (typeof outDim === 'number' && outDim !== this.dimension) {
        throw new ModelBundleError(`${rel} outputs ${outDim}-dimensional embeddings but config.json says projection_dim ${this.dimension}: the towers do not match`);
      }
      if (tower === 'vision') {
        if (input.type !== 'float32' && input.type !== 'float16') throw new ModelBundleError(`${rel}: pixel_values has type ${input.type}, expected float32 or float16`);
        const crop = outputSize(this.preprocess)!;
        const [, c, h, w] = input.shape;
        if (input.shape.length !== 4 || (typeof c === 'number' && c !== 3) || (typeof h === 'number' && h !== crop.height) || (typeof w === 'number' && w !== crop.width)) {
          throw new ModelBundleError(`${rel}: pixel_values has shape [${input.shape.join(', ')}], but the preprocessor produces [batch, 3, ${crop.height}, ${crop.width}]`);
        }
      } else {
        if (input.type !== 'int64' || input.shape.length !== 2) throw new ModelBundleError(`${rel}: input_ids must be int64 [batch, sequence], got ${input.type} [${input.shape.join(', ')}]`);
        const len = input.shape[1];
        if (typeof len === 'number' && len > this.tokenizer.contextLength) throw new ModelBundleError(`${rel}: sequence length ${len} exceeds the context length ${this.tokenizer.contextLength}`);
      }
      const b = input.shape[0];
      const l = tower === 'text' ? input.shape[1] : input.shape[2];
      return { session, input, mask, output, fixedBatch: typeof b === 'number' ? b : undefined, fixedLength: typeof l === 'number' ? l : undefined };
    } catch (err) {
      await session.close();
      throw err;
    }
  }

  /**
   * Embeds images (paths or encoded bytes): `inputs.length × dimension`, rows L2-normalised.
   * Undecodable inputs yield per-item ImageDecodeErrors (zero rows); the call rejects only on
   * abort, close, or a model failure. Decoding of the next batch overlaps inference of the current one;
   * at most two batches are in memory.
   */
  async embedImages(inputs: readonly ImageInput[], options: EmbedOptions = {}): Promise<ImageEmbeddings> {
    if (this.closed) throw new ClosedError('embedder');
    const n = inputs.length;
    const dim = this.dimension;
    const vectors = new Float32Array(n * dim);
    const errors: (ImageDecodeError | undefined)[] = new Array<ImageDecodeError | undefined>(n).fill(undefined);
    const sizes: ImageEmbeddings['sizes'] = Array.from({ length: n }, () => ({ width: 0, height: 0, format: '' }));
    if (n === 0) return { vectors, errors, sizes };
    const state = await this.tower('vision');
    const batch = Math.min(this.batchSize, state.fixedBatch ?? Infinity);
    const crop = outputSize(this.preprocess)!;
    const per = 3 * crop.width * crop.height;
    const concurrency = Math.max(1, this.decodeConcurrency);
    const limitInputPixels = this.options.limitInputPixels;

    // Decodes and transforms one batch into a fresh tensor holding only the images that decoded.
    const prepare = async (start: number): Promise<{ data: Float32Array; rows: number[] }> => {
      const end = Math.min(n, start + batch);
      const data = new Float32Array((end - start) * per);
      const ok: boolean[] = new Array<boolean>(end - start).fill(false);
      let next = start;
      const worker = async () => {
        while (next < end) {
          const i = next++;
          const input = inputs[i]!;
          try {
            const t = await this.pool.preprocess(input, this.preprocess, limitInputPixels, this.options.preprocess);
            if (t.data.length !== per) throw new ImageDecodeError(describeInput(input), 'corrupt', `preprocessed to ${t.width}×${t.height}, expected ${crop.width}×${crop.height}`);
            data.set(t.data, (i - start) * per);
            sizes[i] = t.source;
            ok[i - start] = true;
          } catch (err) {
            errors[i] = err instanceof ImageDecodeError ? err : new ImageDecodeError(describeInput(input), 'corrupt', String(err), { cause: err });
          }
          decoded++;
          options.onProgress?.(embedded, n, decoded);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, end - start) }, worker));
      // Compact the successful rows to the front.
      const rows: number[] = [];
      for (let k = 0; k < ok.length; k++) {
        if (!ok[k]) continue;
        if (rows.length !== k) data.copyWithin(rows.length * per, k * per, (k + 1) * per);
        rows.push(start + k);
      }
      return { data: data.subarray(0, rows.length * per), rows };
    };

    let decoded = 0;
    let embedded = 0;
    let pending: Promise<{ data: Float32Array; rows: number[] }> | undefined = prepare(0);
    for (let start = 0; start < n; start += batch) {
      const current = await pending!;
      pending = start + batch < n ? prepare(start + batch) : undefined;
      // Keep a rejected look-ahead from going unhandled if we stop early.
      pending?.catch(() => undefined);
      if (options.signal?.aborted) throw new AbortedError('image embedding');
      if (this.closed) throw new ClosedError('embedder');
      if (current.rows.length > 0) {
        const rows = current.rows.length;
        const pixels: WireTensor =
          state.input.type === 'float16'
            ? { type: 'float16', data: toFloat16Bits(current.data), dims: [rows, 3, crop.height, crop.width] }
            : { type: 'float32', data: current.data, dims: [rows, 3, crop.height, crop.width] };
        const out = asFloat32(await state.session.run({ [state.input.name]: pixels }, state.output.name));
        if (out.length !== rows * dim) throw new ModelBundleError(`vision model returned ${out.length} values for ${rows} images, expected ${rows * dim}`);
        current.rows.forEach((idx, r) => vectors.set(out.subarray(r * dim, (r + 1) * dim), idx * dim));
        for (const idx of current.rows) normalizeRows(vectors.subarray(idx * dim, (idx + 1) * dim), dim);
      }
      embedded = Math.min(n, start + batch);
      options.onProgress?.(embedded, n, decoded);
    }
    return { vectors, errors, sizes };
  }

  /**
   * Embeds texts: `texts.length × dimension`, rows L2-normalised. Each batch is padded to its
   * longest tokenized text when the graph's sequence axis is dynamic (identical embeddings to
   * padding to 77, thanks to the causal mask and end-token pooling, and much cheaper).
   */
  async embedTexts(texts: readonly string[], options: EmbedOptions = {}): Promise<Float32Array> {
    if (this.closed) throw new ClosedError('embedder');
    const n = texts.length;
    const dim = this.dimension;
    const out = new Float32Array(n * dim);
    if (n === 0) return out;
    for (const t of texts) if (typeof t !== 'string') throw new InvalidArgumentError('texts must be strings');
    const state = await this.tower('text');
    const batch = Math.min(this.textBatchSize, state.fixedBatch ?? Infinity);
    for (let start = 0; start < n; start += batch) {
      if (options.signal?.aborted) throw new AbortedError('text embedding');
      const chunk = texts.slice(start, start + batch);
      const tok = this.tokenizer.tokenize(chunk, { padTo: state.fixedLength !== undefined ? 'context' : 'longest' });
      let ids = tok.inputIds;
      let mask = tok.attentionMask;
      let seq = tok.sequenceLength;
      if (state.fixedLength !== undefined && state.fixedLength !== seq) {
        // A graph with a fixed, shorter sequence axis: copy the prefix (truncation keeps the end token).
        const L = state.fixedLength;
        const ids2 = new BigInt64Array(chunk.length * L);
        const mask2 = new BigInt64Array(chunk.length * L);
        for (let r = 0; r < chunk.length; r++) {
          for (let i = 0; i < L; i++) {
            ids2[r * L + i] = ids[r * seq + i]!;
            mask2[r * L + i] = mask[r * seq + i]!;
          }
          if (tok.lengths[r]! > L) ids2[r * L + L - 1] = BigInt(this.tokenizer.endId);
        }
        ids = ids2;
        mask = mask2;
        seq = L;
      }
      const feeds: Record<string, WireTensor> = { [state.input.name]: { type: 'int64', data: ids, dims: [chunk.length, seq] } };
      if (state.mask) feeds[state.mask.name] = { type: 'int64', data: mask, dims: [chunk.length, seq] };
      const res = asFloat32(await state.session.run(feeds, state.output.name));
      if (res.length !== chunk.length * dim) throw new ModelBundleError(`text model returned ${res.length} values for ${chunk.length} texts, expected ${chunk.length * dim}`);
      out.set(res, start * dim);
      options.onProgress?.(Math.min(n, start + batch), n);
    }
    normalizeRows(out, dim);
    return out;
  }

  /** Releases both sessions and their worker threads. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.close();
    const states = Object.values(this.towers);
    await Promise.all(
      states.map(async (p) => {
        try {
          await (await p).session.close();
        } catch {
          // a tower that failed to load has nothing to release
        }
      }),
    );
  }
}
