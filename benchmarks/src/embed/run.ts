// Embedder benchmark: `pnpm nx run benchmarks:embed` (or `pnpm --filter @pixsearch/benchmarks embed`).
// On the generated vit-b-32 bundle (ViT-B/32 dimensions, random weights, generated on demand into
// benchmarks/.data/embed/, never committed) it measures:
//   1. raw onnxruntime session images/s at batch 1, 8, 32 (random pixels, no decoding);
//   2. the full pipeline (files on disk → normalised vectors) images/s through ClipEmbedder;
//   3. text query latency p50/p99 at batch 1 (quantized and fp32 text towers; padded to the
//      query's length vs. to 77).
// Prints a table and writes JSON to benchmarks/results/embed-<timestamp>.json. CPU time (all
// threads of the process) is reported beside wall time: on a shared machine it is the steadier
// figure of the two.
// Options: --quick (fewer repetitions), --images N (pipeline images, default 128).
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClipEmbedder } from '@pixsearch/core/clip';
import { GENERATOR_VERSION, generateBundle } from '@pixsearch/core/model-generator';

// onnxruntime-node and sharp are @pixsearch/core's dependencies: load the very copies it uses.
const coreRequire = createRequire(fileURLToPath(import.meta.resolve('@pixsearch/core/clip')));
interface OrtTensor {
  data: unknown;
}
interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
const ort = coreRequire('onnxruntime-node') as {
  InferenceSession: { create(path: string, options?: Record<string, unknown>): Promise<OrtSession> };
  Tensor: new (type: string, data: Float32Array | BigInt64Array, dims: number[]) => OrtTensor;
  env: { versions: { common: string } };
};
interface SharpChain {
  resize(w: number, h: number, o?: Record<string, unknown>): SharpChain;
  resize(o: Record<string, unknown>): SharpChain;
  blur(s: number): SharpChain;
  png(): SharpChain;
  jpeg(o: Record<string, unknown>): SharpChain;
  composite(layers: Record<string, unknown>[]): SharpChain;
  toBuffer(): Promise<Buffer>;
  toFile(file: string): Promise<unknown>;
}
const sharp = coreRequire('sharp') as (input?: unknown, options?: Record<string, unknown>) => SharpChain;

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const dataDir = path.join(root, '.data', 'embed');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const imageCount = Number(args[args.indexOf('--images') + 1]) || (quick ? 64 : 128);

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
const fmt = (n: number, d = 1) => n.toFixed(d);

async function ensureBundle(): Promise<string> {
  const dir = path.join(dataDir, `vit-b-32-v${GENERATOR_VERSION}`);
  try {
    await stat(path.join(dir, 'config.json'));
    return dir;
  } catch {
    console.log(`generating the vit-b-32 bundle into ${dir} (~830 MB, about half a minute)…`);
    await generateBundle({ preset: 'vit-b-32', out: dir });
    return dir;
  }
}

/** A folder of real image files: openclipart PNGs (Debian's openclipart-png) and JPEG photos made from them. */
async function ensureImages(count: number): Promise<string[]> {
  const dir = path.join(dataDir, `images-${count}`);
  await mkdir(dir, { recursive: true });
  const existing = (await readdir(dir)).filter((f) => /\.(jpe?g|png)$/.test(f));
  if (existing.length >= count) return existing.slice(0, count).sort().map((f) => path.join(dir, f));
  const clipart: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (clipart.length >= count) return;
      if (e.isDirectory()) await walk(path.join(d, e.name));
      else if (e.name.endsWith('.png')) clipart.push(path.join(d, e.name));
    }
  };
  await walk('/usr/share/openclipart/png');
  console.log(`writing ${count} benchmark images into ${dir} (${clipart.length} openclipart sources)…`);
  for (let i = 0; i < count; i++) {
    // Photo-like 640×480 background (noise + gradient), with a clipart drawing composited when available.
    const noise = await sharp({ create: { width: 160, height: 120, channels: 3, background: { r: (i * 37) % 255, g: (i * 91) % 255, b: (i * 53) % 255 }, noise: { type: 'gaussian', mean: 128, sigma: 60 } } })
      .resize(640, 480, { kernel: 'cubic' })
      .blur(1.2)
      .png()
      .toBuffer();
    let img = sharp(noise);
    const src = clipart[i % Math.max(1, clipart.length)];
    if (src) {
      const art = await sharp(src).resize(400, 360, { fit: 'inside' }).png().toBuffer().catch(() => undefined);
      if (art) img = sharp(await img.composite([{ input: art, gravity: 'center' }]).png().toBuffer());
    }
    const name = `img-${String(i).padStart(4, '0')}`;
    if (i % 4 === 3) await img.png().toFile(path.join(dir, `${name}.png`));
    else await img.jpeg({ quality: 88 }).toFile(path.join(dir, `${name}.jpg`));
  }
  return (await readdir(dir)).filter((f) => /\.(jpe?g|png)$/.test(f)).sort().slice(0, count).map((f) => path.join(dir, f));
}

/** Process CPU milliseconds (all threads) spent in `fn`, with its wall time. */
async function measure<T>(fn: () => Promise<T>): Promise<{ result: T; wallMs: number; cpuMs: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await fn();
  const c = process.cpuUsage(c0);
  return { result, wallMs: performance.now() - t0, cpuMs: (c.user + c.system) / 1000 };
}

const rawCpuMsPerImage: Record<number, number> = {};

async function rawSession(bundle: string, batches: number[]): Promise<Record<number, number>> {
  const session = await ort.InferenceSession.create(path.join(bundle, 'onnx/vision_model.onnx'), { graphOptimizationLevel: 'all' });
  const out: Record<number, number> = {};
  try {
    for (const b of batches) {
      const data = new Float32Array(b * 3 * 224 * 224).map(() => Math.random() * 2 - 1);
      const feeds = { pixel_values: new ort.Tensor('float32', data, [b, 3, 224, 224]) };
      await session.run(feeds); // warm-up
      const images = quick ? 32 : 64;
      const runs = Math.max(2, Math.ceil(images / b));
      const m = await measure(async () => {
        for (let r = 0; r < runs; r++) await session.run(feeds);
      });
      out[b] = (runs * b) / (m.wallMs / 1000);
      rawCpuMsPerImage[b] = m.cpuMs / (runs * b);
    }
  } finally {
    await session.release();
  }
  return out;
}

async function pipeline(bundle: string, files: string[], batchSize: number): Promise<{ imgPerSec: number; cpuMsPerImage: number; errors: number; loopMaxLagMs: number }> {
  const e = await ClipEmbedder.create({ model: bundle, batchSize });
  try {
    await e.embedImages(files.slice(0, batchSize)); // loads the session, warms up
    let maxLag = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxLag = Math.max(maxLag, now - last - 10);
      last = now;
    }, 10);
    const m = await measure(() => e.embedImages(files));
    clearInterval(timer);
    return { imgPerSec: files.length / (m.wallMs / 1000), cpuMsPerImage: m.cpuMs / files.length, errors: m.result.errors.filter(Boolean).length, loopMaxLagMs: maxLag };
  } finally {
    await e.close();
  }
}

async function textLatency(bundle: string, variant: 'quantized' | 'fp32'): Promise<{ p50: number; p99: number; mean: number }> {
  const e = await ClipEmbedder.create({ model: bundle, variant: { text: variant } });
  const queries = ['a photo of a cat', 'a dog sitting on a bench', 'sunset over the sea', 'red car', 'two people walking in the snow'];
  try {
    for (let i = 0; i < 10; i++) await e.embedTexts([queries[i % queries.length]!]);
    const times: number[] = [];
    const n = quick ? 100 : 300;
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await e.embedTexts([queries[i % queries.length]!]);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return { p50: pct(times, 50), p99: pct(times, 99), mean: times.reduce((a, b) => a + b, 0) / times.length };
  } finally {
    await e.close();
  }
}

/** Text tower alone, in-process: one query padded to its length vs. to 77 tokens. */
async function textPadding(bundle: string): Promise<{ shortMs: number; fullMs: number; shortLen: number }> {
  const session = await ort.InferenceSession.create(path.join(bundle, 'onnx/text_model_quantized.onnx'));
  const e = await ClipEmbedder.create({ model: bundle });
  try {
    const tok = e.tokenizer;
    const time = async (padTo: 'longest' | 'context') => {
      const b = tok.tokenize(['a photo of a cat'], { padTo });
      const feeds = { input_ids: new ort.Tensor('int64', b.inputIds, [1, b.sequenceLength]) };
      for (let i = 0; i < 5; i++) await session.run(feeds);
      const times: number[] = [];
      for (let i = 0; i < (quick ? 50 : 150); i++) {
        const t0 = performance.now();
        await session.run(feeds);
        times.push(performance.now() - t0);
      }
      return { ms: pct(times.sort((a, c) => a - c), 50), len: b.sequenceLength };
    };
    const s = await time('longest');
    const f = await time('context');
    return { shortMs: s.ms, fullMs: f.ms, shortLen: s.len };
  } finally {
    await session.release();
    await e.close();
  }
}

async function main(): Promise<void> {
  const started = new Date();
  const bundle = await ensureBundle();
  const files = await ensureImages(imageCount);
  console.log(`machine: ${os.cpus().length}× ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GB, load avg ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log('raw session…');
  const raw = await rawSession(bundle, [1, 8, 32]);
  const bestBatch = Number(Object.entries(raw).sort((a, b) => b[1] - a[1])[0]![0]);
  console.log('pipeline…');
  const pipe: Record<number, Awaited<ReturnType<typeof pipeline>>> = {};
  for (const b of [8, 16, 32]) pipe[b] = await pipeline(bundle, files, b);
  console.log('text…');
  const textQ = await textLatency(bundle, 'quantized');
  const textF = await textLatency(bundle, 'fp32');
  const padding = await textPadding(bundle);
  const bestPipe = Math.max(...Object.values(pipe).map((p) => p.imgPerSec));
  const bestRaw = Math.max(...Object.values(raw));
  const bestPipeCpu = Math.min(...Object.values(pipe).map((p) => p.cpuMsPerImage));
  const bestRawCpu = Math.min(...Object.values(rawCpuMsPerImage));
  const rows: [string, string][] = [
    ...[1, 8, 32].map((b): [string, string] => [`raw vision session, batch ${b}`, `${fmt(raw[b]!)} img/s  (${fmt(rawCpuMsPerImage[b]!)} CPU-ms/img)`]),
    ...Object.entries(pipe).map(([b, p]): [string, string] => [
      `pipeline (${files.length} files → vectors), batch ${b}`,
      `${fmt(p.imgPerSec)} img/s  (${fmt(p.cpuMsPerImage)} CPU-ms/img, max event-loop lag ${fmt(p.loopMaxLagMs, 0)} ms)`,
    ]),
    ['pipeline / raw at best batch', `${fmt((100 * bestPipe) / bestRaw, 0)} % wall (best raw batch ${bestBatch}); ${fmt((100 * bestRawCpu) / bestPipeCpu, 0)} % by CPU time`],
    ['text query, quantized tower, batch 1', `p50 ${fmt(textQ.p50, 2)} ms, p99 ${fmt(textQ.p99, 2)} ms`],
    ['text query, fp32 tower, batch 1', `p50 ${fmt(textF.p50, 2)} ms, p99 ${fmt(textF.p99, 2)} ms`],
    [`text tower alone: ${padding.shortLen} tokens vs 77`, `${fmt(padding.shortMs, 2)} ms vs ${fmt(padding.fullMs, 2)} ms (p50)`],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`\nembedder benchmark — generated vit-b-32 bundle (fp32 vision, quantized text), ${os.cpus().length} cores`);
  for (const [k, v] of rows) console.log(`  ${k.padEnd(w)}  ${v}`);
  const result = {
    benchmark: 'embed',
    started: started.toISOString(),
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memGB: Math.round(os.totalmem() / 2 ** 30), loadavg: os.loadavg(), node: process.version, ort: ort.env.versions.common },
    bundle: { preset: 'vit-b-32', generatorVersion: GENERATOR_VERSION, vision: 'fp32', text: 'quantized' },
    images: { count: files.length, folder: path.dirname(files[0]!) },
    rawSessionImgPerSec: raw,
    rawSessionCpuMsPerImage: rawCpuMsPerImage,
    pipelineCpuMsPerImage: Object.fromEntries(Object.entries(pipe).map(([b, p]) => [b, p.cpuMsPerImage])),
    pipelineImgPerSec: Object.fromEntries(Object.entries(pipe).map(([b, p]) => [b, p.imgPerSec])),
    pipelineMaxEventLoopLagMs: Object.fromEntries(Object.entries(pipe).map(([b, p]) => [b, p.loopMaxLagMs])),
    pipelineOverRawBest: bestPipe / bestRaw,
    textQueryMs: { quantized: textQ, fp32: textF },
    textTowerPadding: padding,
  };
  const out = path.join(root, 'results', `embed-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nwrote ${path.relative(process.cwd(), out)}`);
}

await main();
