import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipTokenizer } from '../src/clip/tokenizer.js';
import { generateBundle, modelProtoType, resolveSpec } from '../src/model-generator/index.js';

let dir: string;
let bundle: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'pixsearch-gen-'));
  bundle = await generateBundle({ preset: 'tiny', out: path.join(dir, 'tiny'), seed: 3 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Dim = { dim_value?: number | { toNumber(): number }; dim_param?: string };
function dims(v: { type: { tensor_type: { shape: { dim: Dim[] } } } }): (number | string)[] {
  return v.type.tensor_type.shape.dim.map((d) => d.dim_param || Number(d.dim_value));
}

describe('generateBundle', () => {
  it('writes the Hugging Face ONNX layout with configs a downloaded bundle has', async () => {
    for (const f of ['onnx/vision_model.onnx', 'onnx/text_model.onnx', 'onnx/vision_model_quantized.onnx', 'onnx/text_model_quantized.onnx', 'tokenizer.json', 'preprocessor_config.json', 'config.json']) {
      expect((await stat(path.join(bundle, f))).size, f).toBeGreaterThan(0);
    }
    const config = JSON.parse(await readFile(path.join(bundle, 'config.json'), 'utf8'));
    expect(config.projection_dim).toBe(32);
    expect(config.text_config.vocab_size).toBe(49408);
    const tok = ClipTokenizer.fromTokenizerJson(JSON.parse(await readFile(path.join(bundle, 'tokenizer.json'), 'utf8')));
    expect([tok.startId, tok.endId]).toEqual([49406, 49407]);
  });

  it('declares a dynamic batch axis and a dynamic sequence axis', async () => {
    const Model = modelProtoType();
    const vision = Model.decode(await readFile(path.join(bundle, 'onnx/vision_model.onnx'))) as unknown as { graph: { input: never[]; output: never[] }; opset_import: { version: number }[] };
    const text = Model.decode(await readFile(path.join(bundle, 'onnx/text_model.onnx'))) as unknown as typeof vision;
    expect(dims(vision.graph.input[0]!)).toEqual(['batch_size', 3, 224, 224]);
    expect(dims(vision.graph.output[0]!)).toEqual(['batch_size', 32]);
    expect(dims(text.graph.input[0]!)).toEqual(['batch_size', 'sequence_length']);
    expect(dims(text.graph.output[0]!)).toEqual(['batch_size', 32]);
  });

  it('is deterministic for a seed and differs across seeds', async () => {
    const again = await generateBundle({ preset: 'tiny', out: path.join(dir, 'again'), seed: 3, variants: ['fp32'] });
    const other = await generateBundle({ preset: 'tiny', out: path.join(dir, 'other'), seed: 4, variants: ['fp32'] });
    const a = await readFile(path.join(bundle, 'onnx/text_model.onnx'));
    expect(a.equals(await readFile(path.join(again, 'onnx/text_model.onnx')))).toBe(true);
    expect(a.equals(await readFile(path.join(other, 'onnx/text_model.onnx')))).toBe(false);
  });

  it('keeps the tiny preset small and the vit-b-32 preset at ViT-B/32 dimensions', async () => {
    const sizes = await Promise.all(['vision_model', 'text_model'].map(async (f) => (await stat(path.join(bundle, `onnx/${f}.onnx`))).size));
    expect(sizes.reduce((a, b) => a + b, 0)).toBeLessThan(10_000_000);
    const b32 = resolveSpec('vit-b-32');
    expect(b32).toMatchObject({ projectionDim: 512, vision: { width: 768, layers: 12, heads: 12, patch: 32, imageSize: 224 }, text: { width: 512, layers: 12, heads: 8, contextLength: 77 } });
  });

  it('pads to the longest text, not 77, without changing the embedding (causal mask + end-token pooling)', async () => {
    const session = await ort.InferenceSession.create(path.join(bundle, 'onnx/text_model.onnx'));
    try {
      const tok = ClipTokenizer.fromTokenizerJson(JSON.parse(await readFile(path.join(bundle, 'tokenizer.json'), 'utf8')));
      const texts = ['a photo of a cat', 'a dog', 'mountains covered in snow under a blue sky at sunset'];
      const run = async (padTo: 'longest' | 'context') => {
        const b = tok.tokenize(texts, { padTo });
        const r = await session.run({ input_ids: new ort.Tensor('int64', b.inputIds, [b.count, b.sequenceLength]) });
        return { seq: b.sequenceLength, data: r.text_embeds!.data as Float32Array };
      };
      const short = await run('longest');
      const full = await run('context');
      expect(short.seq).toBeLessThan(60);
      expect(full.seq).toBe(77);
      for (let i = 0; i < full.data.length; i++) expect(short.data[i]).toBeCloseTo(full.data[i]!, 4);
      // Each text alone (no padding at all) gives the same row as in the padded batch.
      const alone = tok.tokenize([texts[1]!]);
      const r = await session.run({ input_ids: new ort.Tensor('int64', alone.inputIds, [1, alone.sequenceLength]) });
      const row = r.text_embeds!.data as Float32Array;
      for (let i = 0; i < 32; i++) expect(row[i]).toBeCloseTo(full.data[32 + i]!, 4);
    } finally {
      await session.release();
    }
  });

  it('rejects unknown presets and variants', async () => {
    await expect(generateBundle({ preset: 'huge' as 'tiny', out: path.join(dir, 'x') })).rejects.toThrow(/preset/);
    await expect(generateBundle({ preset: 'tiny', out: path.join(dir, 'x'), variants: [] })).rejects.toThrow(/variants/);
  });
});
