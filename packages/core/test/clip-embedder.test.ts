import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipEmbedder, defaultDecodeSizing, readBundleInfo } from '../src/clip/index.js';
import { AbortedError, ClosedError, DependencyMissingError, ImageDecodeError, InvalidArgumentError, ModelBundleError } from '../src/errors.js';
import { buildVisionTower, SeededRandom } from '../src/model-generator/clip-graphs.js';
import { encodeTowerModel, generateBundle, resolveSpec } from '../src/model-generator/index.js';
import { ensureTinyBundle } from '../src/testing/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const IMG = (f: string) => path.join(here, 'fixtures/images', f);
let tiny: string;
let tmp: string;
const open: ClipEmbedder[] = [];

async function embedder(options: Parameters<typeof ClipEmbedder.create>[0] = {}): Promise<ClipEmbedder> {
  const e = await ClipEmbedder.create({ model: tiny, ...options });
  open.push(e);
  return e;
}

function norms(v: Float32Array, dim: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < v.length / dim; r++) {
    let s = 0;
    for (let i = r * dim; i < (r + 1) * dim; i++) s += v[i]! ** 2;
    out.push(Math.sqrt(s));
  }
  return out;
}

beforeAll(async () => {
  tiny = await ensureTinyBundle({ dir: path.join(os.tmpdir(), 'pixsearch-test-models') });
  tmp = await mkdtemp(path.join(os.tmpdir(), 'pixsearch-clip-'));
});
afterAll(async () => {
  await Promise.all(open.map((e) => e.close()));
  await rm(tmp, { recursive: true, force: true });
});

describe('ClipEmbedder on the generated tiny bundle', () => {
  it('reads the bundle: dimension, variants, model id', async () => {
    const e = await embedder();
    expect(e.dimension).toBe(32);
    expect(e.variants).toEqual({ vision: 'fp32', text: 'quantized' });
    expect(e.modelId).toBe('pixsearch/generated-tiny');
    const info = await readBundleInfo(tiny);
    expect(Object.keys(info.vision).sort()).toEqual(['fp32', 'quantized']);
    expect(info.contextLength).toBe(77);
  });

  it('sizes decode workers and images in flight to the cores and the image-tower dtype', async () => {
    expect(defaultDecodeSizing(2, 'fp32')).toEqual({ workers: 1, concurrency: 4 });
    expect(defaultDecodeSizing(16, 'fp32')).toEqual({ workers: 2, concurrency: 8 });
    // An 8-bit tower runs ~3× faster: twice the decoding share.
    expect(defaultDecodeSizing(16, 'int8')).toEqual({ workers: 4, concurrency: 16 });
    expect(defaultDecodeSizing(128, 'q8').workers).toBe(8);
    const e = await embedder({ decodeWorkers: 3, decodeConcurrency: 5 });
    expect([e.decodeWorkers, e.decodeConcurrency]).toEqual([3, 5]);
  });

  it('loads towers lazily: a text query never creates the vision session', async () => {
    const e = await embedder();
    expect(e.isLoaded('text')).toBe(false);
    const v = await e.embedTexts(['a photo of a cat']);
    expect(v).toHaveLength(32);
    expect(e.isLoaded('text')).toBe(true);
    expect(e.isLoaded('vision')).toBe(false);
  });

  it('embeds texts as unit-norm rows, deterministically', async () => {
    const a = await embedder();
    const b = await embedder();
    const texts = ['a photo of a cat', 'a dog sitting on a bench', '', 'x'.repeat(400)];
    const va = await a.embedTexts(texts);
    const vb = await b.embedTexts(texts);
    expect(va).toHaveLength(4 * 32);
    for (const n of norms(va, 32)) expect(n).toBeCloseTo(1, 5);
    expect(vb).toEqual(va);
    // Batching and padding do not change rows of the fp32 tower. (The quantized tower quantizes
    // activations per batch, as the hub's do, so its rows move by ~1e-3 with the batch.)
    const fp32 = await embedder({ variant: { text: 'fp32' } });
    const batch = await fp32.embedTexts(texts);
    const one = await fp32.embedTexts([texts[1]!]);
    for (let i = 0; i < 32; i++) expect(one[i]).toBeCloseTo(batch[32 + i]!, 5);
    expect(await a.embedTexts([])).toHaveLength(0);
  });

  it('embeds images with per-item errors, unit-norm rows and sizes, independent of batching', async () => {
    const inputs = [IMG('photo.jpg'), IMG('not-an-image.jpg'), IMG('alpha.png'), IMG('truncated.jpg'), await readFile(IMG('photo.webp')), IMG('gray16.png'), IMG('cmyk.jpg')];
    const e = await embedder({ batchSize: 2 });
    const progress: number[] = [];
    const decodedCounts: number[] = [];
    const r = await e.embedImages(inputs, {
      onProgress: (done, _total, decoded) => {
        if (progress[progress.length - 1] !== done && done > 0) progress.push(done);
        if (decoded !== undefined && decodedCounts[decodedCounts.length - 1] !== decoded) decodedCounts.push(decoded);
      },
    });
    // Every image reports its decode (failures too), before its batch is embedded.
    expect(decodedCounts).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(r.vectors).toHaveLength(inputs.length * 32);
    expect(r.errors.map((x) => x?.reason)).toEqual([undefined, 'unsupported-format', undefined, 'truncated', undefined, undefined, undefined]);
    expect(r.errors[1]).toBeInstanceOf(ImageDecodeError);
    const n = norms(r.vectors, 32);
    for (const i of [0, 2, 4, 5, 6]) expect(n[i]).toBeCloseTo(1, 5);
    expect(n[1]).toBe(0);
    expect(n[3]).toBe(0);
    expect(r.sizes[0]).toEqual({ width: 640, height: 480, format: 'jpeg' });
    expect(r.sizes[4]).toMatchObject({ width: 320, height: 240, format: 'webp' });
    expect(progress).toEqual([2, 4, 6, 7]);
    const big = await embedder({ batchSize: 16, decodeWorkers: 0 });
    const r2 = await big.embedImages(inputs);
    for (let i = 0; i < r.vectors.length; i++) expect(r2.vectors[i]).toBeCloseTo(r.vectors[i]!, 5);
    // Decoding in worker threads (default) and in-thread give the same vectors. Bytes decode at
    // full size (libvips takes DCT-scaling options from file names only): nearly the same vector.
    const bytes = await big.embedImages([await readFile(IMG('photo.jpg'))]);
    expect(bytes.vectors.subarray(0, 32).reduce((s, x, i) => s + x * r.vectors[i]!, 0)).toBeGreaterThan(0.999);
    const exact = await embedder({ batchSize: 16, preprocess: 'exact' });
    const exactBytes = await exact.embedImages([await readFile(IMG('photo.jpg')), IMG('photo.jpg')]);
    for (let i = 0; i < 32; i++) expect(exactBytes.vectors[i]).toBeCloseTo(exactBytes.vectors[32 + i]!, 5);
  });

  it('rejects too-large images per item (decompression-bomb guard)', async () => {
    const e = await embedder({ limitInputPixels: 100 * 100 });
    const r = await e.embedImages([IMG('photo.jpg'), IMG('small.png')]);
    expect(r.errors[0]?.reason).toBe('too-large');
    expect(r.errors[1]).toBeUndefined();
  });

  it('quantized and fp32 towers agree closely', async () => {
    const fp32 = await embedder({ variant: { vision: 'fp32', text: 'fp32' } });
    const q = await embedder({ variant: { vision: 'quantized', text: 'quantized' } });
    const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);
    expect(cos(await fp32.embedTexts(['a red car']), await q.embedTexts(['a red car']))).toBeGreaterThan(0.98);
    const [vi, qi] = [await fp32.embedImages([IMG('photo.jpg')]), await q.embedImages([IMG('photo.jpg')])];
    expect(cos(vi.vectors, qi.vectors)).toBeGreaterThan(0.98);
    expect(fp32.modelId).toBe('pixsearch/generated-tiny#vision=fp32,text=fp32');
  });

  it('picks tower dtypes by their Transformers.js names: int8/uint8/q8 files, signed int8 weights, close to fp32', async () => {
    const folder = await generateBundle({ preset: 'tiny', out: path.join(tmp, 'dtypes'), variants: ['fp32', 'quantized', 'int8', 'uint8'] });
    const info = await readBundleInfo(folder);
    expect(Object.keys(info.vision).sort()).toEqual(['fp32', 'int8', 'quantized', 'uint8']);
    // The quantized and int8 towers hold signed int8 weights (ONNX type 3), the uint8 tower unsigned ones (2).
    const { modelProtoType } = await import('../src/model-generator/index.js');
    const weightTypes = async (file: string): Promise<number[]> => {
      const model = modelProtoType().decode(await readFile(path.join(folder, 'onnx', file))) as unknown as { graph: { initializer: { name: string; dataType?: number; data_type?: number }[] } };
      const types = model.graph.initializer.filter((t) => t.name.endsWith('.weight_quantized')).map((t) => t.dataType ?? t.data_type ?? 0);
      return [...new Set(types)];
    };
    expect(await weightTypes('vision_model_quantized.onnx')).toEqual([3]);
    expect(await weightTypes('vision_model_int8.onnx')).toEqual([3]);
    expect(await weightTypes('vision_model_uint8.onnx')).toEqual([2]);
    const fp32 = await embedder({ model: folder });
    const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);
    const ref = await fp32.embedImages([IMG('photo.jpg')]);
    for (const dtype of ['int8', 'uint8', 'q8', 'quantized'] as const) {
      const e = await embedder({ model: folder, variant: { vision: dtype } });
      expect(e.variants.vision).toBe(dtype === 'q8' ? 'quantized' : dtype);
      expect(e.modelId).toBe(`pixsearch/generated-tiny#vision=${dtype === 'q8' ? 'quantized' : dtype},text=quantized`);
      expect(cos((await e.embedImages([IMG('photo.jpg')])).vectors, ref.vectors)).toBeGreaterThan(0.98);
    }
    await expect(embedder({ model: folder, variant: { vision: 'fp16' } })).rejects.toThrow(/vision_model_fp16\.onnx/);
    await expect(embedder({ model: folder, variant: { vision: 'int4' as 'int8' } })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('runs fp16 towers (float16 inputs and outputs) close to fp32', async () => {
    const folder = await generateBundle({ preset: 'tiny', out: path.join(tmp, 'fp16'), variants: ['fp32', 'fp16'] });
    const half = await embedder({ model: folder, variant: { vision: 'fp16', text: 'fp16' } });
    const full = await embedder({ model: folder, variant: { vision: 'fp32', text: 'fp32' } });
    const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);
    expect(cos(await half.embedTexts(['a red car']), await full.embedTexts(['a red car']))).toBeGreaterThan(0.99);
    const [h, f] = [await half.embedImages([IMG('photo.jpg')]), await full.embedImages([IMG('photo.jpg')])];
    expect(cos(h.vectors, f.vectors)).toBeGreaterThan(0.99);
    expect(norms(h.vectors, 32)[0]).toBeCloseTo(1, 3);
  });

  it('aborts between batches and refuses work after close', async () => {
    const e = await ClipEmbedder.create({ model: tiny, batchSize: 1 });
    const ac = new AbortController();
    await expect(e.embedImages([IMG('small.png'), IMG('small.png'), IMG('small.png')], { signal: ac.signal, onProgress: () => ac.abort() })).rejects.toBeInstanceOf(AbortedError);
    await e.close();
    await e.close();
    await expect(e.embedTexts(['x'])).rejects.toBeInstanceOf(ClosedError);
    await expect(e.embedImages([IMG('small.png')])).rejects.toBeInstanceOf(ClosedError);
  });

  it('feeds attention_mask when the text graph declares it (same embeddings)', async () => {
    const withMask = await generateBundle({ preset: 'tiny', out: path.join(tmp, 'mask'), variants: ['fp32'], overrides: { textAttentionMask: true } });
    const plain = await generateBundle({ preset: 'tiny', out: path.join(tmp, 'plain'), variants: ['fp32'] });
    const a = await embedder({ model: withMask, variant: { text: 'fp32' } });
    const b = await embedder({ model: plain, variant: { text: 'fp32' } });
    const texts = ['a photo of a cat', 'a dog'];
    const va = await a.embedTexts(texts);
    const vb = await b.embedTexts(texts);
    for (let i = 0; i < va.length; i++) expect(va[i]).toBeCloseTo(vb[i]!, 5);
  });
});

describe('bundle problems give typed errors', () => {
  it('missing folder, missing tokenizer, missing variant', async () => {
    await expect(ClipEmbedder.create({ model: path.join(tmp, 'nope') })).rejects.toBeInstanceOf(ModelBundleError);
    const broken = path.join(tmp, 'no-tokenizer');
    await cp(tiny, broken, { recursive: true });
    await rm(path.join(broken, 'tokenizer.json'));
    await expect(ClipEmbedder.create({ model: broken })).rejects.toThrow(/tokenizer\.json/);
    await expect(ClipEmbedder.create({ model: tiny, variant: { vision: 'fp16' } })).rejects.toThrow(/vision_model_fp16\.onnx/);
  });

  it('a vision graph with the wrong input name', async () => {
    const folder = path.join(tmp, 'wrong-input');
    await cp(tiny, folder, { recursive: true });
    const tower = buildVisionTower(resolveSpec('tiny'), new SeededRandom(1), 'fp32');
    for (const n of tower.nodes) n.input = n.input.map((x) => (x === 'pixel_values' ? 'images' : x));
    tower.inputs[0]!.name = 'images';
    await writeFile(path.join(folder, 'onnx/vision_model.onnx'), encodeTowerModel(tower, 'renamed'));
    const e = await embedder({ model: folder });
    await expect(e.load(['vision'])).rejects.toThrow(/no input "pixel_values".*images/);
    await expect(e.embedImages([IMG('small.png')])).rejects.toBeInstanceOf(ModelBundleError);
    // The text tower is unaffected.
    expect(await e.embedTexts(['still works'])).toHaveLength(32);
  });

  it('a corrupt (e.g. truncated) ONNX file', async () => {
    const folder = path.join(tmp, 'corrupt');
    await cp(tiny, folder, { recursive: true });
    const data = await readFile(path.join(folder, 'onnx/vision_model.onnx'));
    await writeFile(path.join(folder, 'onnx/vision_model.onnx'), data.subarray(0, 5000));
    const e = await embedder({ model: folder });
    await expect(e.load(['vision'])).rejects.toBeInstanceOf(ModelBundleError);
    // The failure is not cached: a repaired file loads on the next call.
    await writeFile(path.join(folder, 'onnx/vision_model.onnx'), data);
    await e.load(['vision']);
    expect(e.isLoaded('vision')).toBe(true);
  });

  it('towers of different dimensions', async () => {
    const other = await generateBundle({ preset: 'tiny', out: path.join(tmp, 'dim16'), variants: ['fp32'], overrides: { projectionDim: 16 } });
    const folder = path.join(tmp, 'mismatch');
    await cp(tiny, folder, { recursive: true });
    await cp(path.join(other, 'onnx/text_model.onnx'), path.join(folder, 'onnx/text_model.onnx'));
    const e = await embedder({ model: folder, variant: { text: 'fp32' } });
    await expect(e.load()).rejects.toThrow(/16-dimensional.*projection_dim 32/);
    const cfg = JSON.parse(await readFile(path.join(folder, 'config.json'), 'utf8'));
    cfg.text_config.projection_dim = 16;
    await writeFile(path.join(folder, 'config.json'), JSON.stringify(cfg));
    await expect(ClipEmbedder.create({ model: folder })).rejects.toThrow(/different projection dimensions/);
  });

  it('invalid options and an unavailable CUDA provider', async () => {
    await expect(ClipEmbedder.create({ model: tiny, batchSize: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(ClipEmbedder.create({ model: tiny, threads: -1 })).rejects.toBeInstanceOf(InvalidArgumentError);
    // This machine has no CUDA: the request fails loudly instead of running on the CPU.
    const cuda = ClipEmbedder.create({ model: tiny, device: 'cuda' }).then(async (e) => {
      open.push(e);
      await e.load(['text']);
      return e;
    });
    await expect(cuda).rejects.toBeInstanceOf(DependencyMissingError);
  });
});
