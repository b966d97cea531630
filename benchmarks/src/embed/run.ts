// Embedder benchmark: `pnpm --filter @pixsearch/benchmarks embed [options]`.
// What it measures, with compared variants interleaved (round-robin, several rounds) so that a
// shared machine's load falls on all of them alike:
//   1. decode + preprocess CPU-ms per image by format and size: the default (`scaled`: DCT-scaled
//      JPEG decode + exact bicubic), `exact` (full decode, PIL-exact) and bare sharp
//      (`sharp(file).resize(224, 224).raw()`, the floor) on the same files, with each set's bits
//      per pixel; HEIC (libheif WASM) and RAW-preview cost per file; the default's deviation from
//      exact (mean abs, 0..255 levels);
//   2. the raw image-tower session (onnxruntime defaults, random pixels, no decoding) at batch
//      8/16/32 for each dtype, and the full pipeline (files → vectors through ClipEmbedder, the
//      set's files repeated to --batches batches) at the best batch: pipeline / raw per dtype and
//      image size, with the CPU-bound ceiling raw / (raw + decode) CPU-ms; decode workers × images
//      in flight; the image tower's onnxruntime threads spinning vs sleeping;
//   3. the cosine between image embeddings of the scaled and exact paths, and between the fp32
//      and int8 towers (generated model).
// Options: --model DIR (a bundle with onnx/vision_model.onnx and vision_model_int8.onnx; default:
// the generated vit-b-32, made on demand in benchmarks/.data/embed), --images DIR (your photos;
// default: generated camera-like photos, JPEG at 1600×1200 and 4000×3000, HEIC, a RAW-like DNG),
// --count N (generated photos per size, default 32), --rounds N (default 3), --batches N (pipeline
// batches per run, default 6), --quick, --prepare (make the bundle and photos, measure nothing).
// Prints tables (CPU model and load recorded) and writes JSON to benchmarks/results/.
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClipEmbedder, CLIP_PREPROCESS, defaultDecodeSizing, preprocessImage } from '@pixsearch/core/clip';
import { GENERATOR_VERSION, generateBundle } from '@pixsearch/core/model-generator';
import { rawLikeTiff } from '@pixsearch/core/testing';

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
  jpeg(o: Record<string, unknown>): SharpChain;
  raw(): SharpChain;
  toBuffer(): Promise<Buffer>;
  toFile(file: string): Promise<unknown>;
}
const sharp = coreRequire('sharp') as (input?: unknown, options?: Record<string, unknown>) => SharpChain;

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const dataDir = path.join(root, '.data', 'embed');
const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const quick = args.includes('--quick');
const count = Number(flag('--count')) || (quick ? 12 : 32);
const rounds = Number(flag('--rounds')) || (quick ? 2 : 3);
const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '–');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function machine(): { cpu: string; cores: number; loadavg: number[] } {
  let cpu = os.cpus()[0]?.model ?? 'cpu';
  try {
    cpu = /Model name:\s*(.*)/.exec(execFileSync('lscpu', { encoding: 'utf8' }))?.[1]?.trim() ?? cpu;
  } catch {
    // lscpu missing: os.cpus() names it
  }
  return { cpu, cores: os.availableParallelism(), loadavg: os.loadavg() };
}

async function ensureBundle(): Promise<string> {
  const given = flag('--model');
  if (given) return path.resolve(given);
  const dir = path.join(dataDir, `vit-b-32-v${GENERATOR_VERSION}`);
  try {
    await stat(path.join(dir, 'onnx', 'vision_model_int8.onnx'));
    return dir;
  } catch {
    console.log(`generating the vit-b-32 bundle (fp32, q8 and int8 towers) into ${dir}…`);
    await generateBundle({ preset: 'vit-b-32', out: dir, variants: ['fp32', 'quantized', 'int8'] });
    return dir;
  }
}

/**
 * A photo-like image: smooth gradients and hard edges (drawn at 1/4 size, enlarged), fine texture
 * at full resolution (foliage, fabric) over part of the frame with smooth areas elsewhere, and a
 * little sensor noise everywhere. At JPEG quality 90 it takes ~2.4 bits per pixel, like camera and
 * phone JPEGs (12 MP in 3-5 MB is 2-3.3 bits/pixel). Libjpeg's entropy decoding, which scaled
 * decoding cannot skip, grows with the bits: earlier photos here (1.56 bits/pixel, no
 * full-resolution detail) made decoding look ~10-20% cheaper than on real photos.
 */
async function photo(width: number, height: number, seed: number): Promise<SharpChain> {
  const w = Math.ceil(width / 4);
  const h = Math.ceil(height / 4);
  const small = Buffer.alloc(w * h * 3);
  let s = seed * 7919 + 1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      s = (s * 1103515245 + 12345) & 0x7fffffff;
      const n = ((s >> 16) & 31) - 16;
      const edge = (((x / (23 + seed)) | 0) + ((y / 31) | 0)) % 2 ? 50 : 0;
      const i = (y * w + x) * 3;
      small[i] = Math.max(0, Math.min(255, 128 + 90 * Math.sin(x / (60 + seed) + seed) + n + edge));
      small[i + 1] = Math.max(0, Math.min(255, 128 + 90 * Math.cos(y / 45) + n));
      small[i + 2] = Math.max(0, Math.min(255, ((x + y) / (w + h)) * 255 + n - edge));
    }
  }
  const base = await sharp(small, { raw: { width: w, height: h, channels: 3 } }).resize(width, height, { kernel: 'lanczos3' }).raw().toBuffer();
  // Texture: hashed values on 2-pixel cells (±36 levels where the mask is 1); noise: ±2.5 levels per channel.
  const hash = (a: number, b: number) => {
    let v = Math.imul(a, 374761393) + Math.imul(b, 668265263) + Math.imul(seed, -2048144777);
    v = Math.imul(v ^ (v >>> 13), 1274126177);
    return ((v ^ (v >>> 16)) & 255) - 128;
  };
  const out = Buffer.alloc(width * height * 3);
  let r = seed * 31 + 7;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const mask = Math.max(0, Math.min(1, 0.5 + 2 * Math.sin(x / (width / 5) + seed) * Math.cos(y / (height / 4))));
      const t = (mask * 36 * hash(x >> 1, y >> 1)) / 128;
      const i = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        r = (r * 1103515245 + 12345) & 0x7fffffff;
        const noise = (((r >> 16) & 255) / 255 - 0.5) * 5;
        out[i + c] = Math.max(0, Math.min(255, base[i + c]! + t * (c === 1 ? 1 : 0.8) + noise));
      }
    }
  }
  return sharp(out, { raw: { width, height, channels: 3 } });
}

interface ImageSet {
  name: string;
  files: string[];
}

/** Generated camera photos: JPEG 1600×1200 and 4000×3000, HEIC 4000×3000 (heif-enc), RAW-like DNG with a 4000×3000 preview. */
async function ensureImages(): Promise<ImageSet[]> {
  const given = flag('--images');
  if (given) {
    const dir = path.resolve(given);
    const files = (await readdir(dir)).filter((f) => /\.(jpe?g|png|webp|heic|heif|avif|tiff?|cr2|cr3|nef|arw|dng|raf|orf|rw2|pef)$/i.test(f)).map((f) => path.join(dir, f));
    const byExt = new Map<string, string[]>();
    for (const f of files.sort()) {
      const ext = path.extname(f).slice(1).toLowerCase().replace('jpeg', 'jpg');
      byExt.set(ext, [...(byExt.get(ext) ?? []), f]);
    }
    return [...byExt].map(([ext, list]) => ({ name: `${ext} (${path.basename(dir)})`, files: list }));
  }
  const dir = path.join(dataDir, `photos-v2-${count}`); // v2: camera-like bits per pixel (see photo())
  await mkdir(dir, { recursive: true });
  const sets: ImageSet[] = [];
  for (const [w, h] of [
    [1600, 1200],
    [4000, 3000],
  ] as const) {
    const files: string[] = [];
    for (let i = 0; i < count; i++) {
      const f = path.join(dir, `jpeg-${w}x${h}-${String(i).padStart(3, '0')}.jpg`);
      files.push(f);
      if (!(await stat(f).catch(() => undefined))) await (await photo(w, h, i)).jpeg({ quality: 90 }).toFile(f);
    }
    sets.push({ name: `JPEG ${w}×${h} (${(w * h) / 1e6} MP)`, files });
  }
  const heic: string[] = [];
  const raws: string[] = [];
  const few = Math.min(count, quick ? 3 : 6);
  for (let i = 0; i < few; i++) {
    const src = sets[1]!.files[i]!;
    const f = path.join(dir, `heic-4000x3000-${i}.heic`);
    if (!(await stat(f).catch(() => undefined))) {
      try {
        execFileSync('heif-enc', ['-q', '80', src, '-o', f]);
      } catch {
        console.log('heif-enc not found (Debian libheif-examples): no HEIC set');
        break;
      }
    }
    heic.push(f);
    const dng = path.join(dir, `raw-${i}.dng`);
    if (!(await stat(dng).catch(() => undefined))) await writeFile(dng, rawLikeTiff(await readFile(src), { sensorBytes: 2 << 20 }));
    raws.push(dng);
  }
  if (heic.length > 0) sets.push({ name: 'HEIC 4000×3000 (12 MP)', files: heic });
  sets.push({ name: 'RAW-like DNG, 4000×3000 preview', files: raws });
  return sets;
}

/** Process CPU milliseconds (all threads) and wall time of `fn`. */
async function measure<T>(fn: () => Promise<T>): Promise<{ result: T; wallMs: number; cpuMs: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await fn();
  const c = process.cpuUsage(c0);
  return { result, wallMs: performance.now() - t0, cpuMs: (c.user + c.system) / 1000 };
}

// ---- 1. decode + preprocess -------------------------------------------------------------------

interface DecodeRow {
  set: string;
  files: number;
  /** File bytes × 8 / decoded pixels, averaged over the set (camera JPEGs at quality ~90: 2-3.3). */
  bitsPerPixel: number;
  scaledCpuMs: number;
  exactCpuMs: number | undefined;
  bareSharpCpuMs: number | undefined;
  deviationLevels: number | undefined;
}

async function decodeCosts(sets: ImageSet[]): Promise<DecodeRow[]> {
  const rows: DecodeRow[] = [];
  for (const set of sets) {
    const jpeg = /JPEG|jpg/.test(set.name);
    const files = set.files.slice(0, jpeg ? count : set.files.length);
    const exactFiles = files.slice(0, Math.min(files.length, 6));
    const cpu = { scaled: [] as number[], exact: [] as number[], bare: [] as number[] };
    for (const f of files.slice(0, 2)) await preprocessImage(f, CLIP_PREPROCESS); // warm-up (JIT, WASM)
    let bytes = 0;
    let pixels = 0;
    for (const f of files) bytes += (await stat(f)).size;
    for (let r = 0; r < rounds; r++) {
      cpu.scaled.push(
        (
          await measure(async () => {
            for (const f of files) {
              const out = await preprocessImage(f, CLIP_PREPROCESS);
              if (r === 0) pixels += out.source.width * out.source.height;
            }
          })
        ).cpuMs / files.length,
      );
      if (jpeg) cpu.bare.push((await measure(async () => { for (const f of files) await sharp(f).resize(224, 224).raw().toBuffer(); })).cpuMs / files.length);
      if (r === 0) cpu.exact.push((await measure(async () => { for (const f of exactFiles) await preprocessImage(f, CLIP_PREPROCESS, { preprocess: 'exact' }); })).cpuMs / exactFiles.length);
    }
    let deviation: number | undefined;
    if (jpeg) {
      let sum = 0;
      for (const f of exactFiles) {
        const a = await preprocessImage(f, CLIP_PREPROCESS);
        const b = await preprocessImage(f, CLIP_PREPROCESS, { preprocess: 'exact' });
        const n = a.data.length / 3;
        let d = 0;
        for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) d += Math.abs(a.data[c * n + i]! - b.data[c * n + i]!) * CLIP_PREPROCESS.std![c]! * 255;
        sum += d / a.data.length;
      }
      deviation = sum / exactFiles.length;
    }
    rows.push({
      set: set.name,
      files: files.length,
      bitsPerPixel: (8 * bytes) / pixels,
      scaledCpuMs: median(cpu.scaled),
      exactCpuMs: cpu.exact.length ? median(cpu.exact) : undefined,
      bareSharpCpuMs: cpu.bare.length ? median(cpu.bare) : undefined,
      deviationLevels: deviation,
    });
    console.log(`  decode ${set.name}: ${fmt(rows.at(-1)!.bitsPerPixel, 2)} bits/px, scaled ${fmt(rows.at(-1)!.scaledCpuMs)} CPU-ms/img`);
  }
  return rows;
}

// ---- 2. raw session vs pipeline ------------------------------------------------------------------

async function rawSession(file: string, batch: number, images: number): Promise<{ imgPerSec: number; cpuMsPerImage: number }> {
  const session = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'all' });
  try {
    const data = new Float32Array(batch * 3 * 224 * 224).map(() => Math.random() * 2 - 1);
    const feeds = { pixel_values: new ort.Tensor('float32', data, [batch, 3, 224, 224]) };
    await session.run(feeds);
    const runs = Math.max(2, Math.ceil(images / batch));
    const m = await measure(async () => {
      for (let r = 0; r < runs; r++) await session.run(feeds);
    });
    return { imgPerSec: (runs * batch) / (m.wallMs / 1000), cpuMsPerImage: m.cpuMs / (runs * batch) };
  } finally {
    await session.release();
  }
}

/** Batches per pipeline run: enough that decoding the next batch overlaps inference of the current one, as in a real library. */
const pipelineBatches = Number(flag('--batches')) || (quick ? 4 : 6);
/** The pipeline's inputs: the set's files repeated to `pipelineBatches` batches (at least the files themselves). */
const pipelineInputs = (files: string[], batch: number): string[] => Array.from({ length: Math.max(files.length, pipelineBatches * batch) }, (_, i) => files[i % files.length]!);

interface PipelineOptions {
  decodeWorkers?: number;
  decodeConcurrency?: number;
  visionSpinning?: boolean;
}

async function pipeline(bundle: string, files: string[], dtype: 'fp32' | 'int8', batchSize: number, opts: PipelineOptions = {}): Promise<{ imgPerSec: number; cpuMsPerImage: number; errors: number; workers: number; inFlight: number }> {
  const e = await ClipEmbedder.create({ model: bundle, batchSize, variant: { vision: dtype }, ...opts });
  const inputs = pipelineInputs(files, batchSize);
  try {
    await e.embedImages(files.slice(0, batchSize)); // loads the session, starts the workers
    const m = await measure(() => e.embedImages(inputs));
    return { imgPerSec: inputs.length / (m.wallMs / 1000), cpuMsPerImage: m.cpuMs / inputs.length, errors: m.result.errors.filter(Boolean).length, workers: e.decodeWorkers, inFlight: e.decodeConcurrency };
  } finally {
    await e.close();
  }
}

async function main(): Promise<void> {
  const started = new Date();
  const bundle = await ensureBundle();
  const sets = await ensureImages();
  if (args.includes('--prepare')) {
    console.log(`ready: ${bundle}; ${sets.map((s) => `${s.name}: ${s.files.length}`).join(', ')}`);
    return;
  }
  const m0 = machine();
  console.log(`machine: ${m0.cores}× ${m0.cpu}, load avg ${m0.loadavg.map((l) => l.toFixed(2)).join(' ')} (uptime: ${execFileSync('uptime', { encoding: 'utf8' }).trim()})`);

  console.log('decode + preprocess…');
  const decode = await decodeCosts(sets);

  console.log('raw session batch sweep…');
  const dtypes = ['fp32', 'int8'] as const;
  const towerFile = (d: (typeof dtypes)[number]) => path.join(bundle, 'onnx', d === 'fp32' ? 'vision_model.onnx' : 'vision_model_int8.onnx');
  const sweep: Record<string, Record<number, { imgPerSec: number; cpuMsPerImage: number }>> = { fp32: {}, int8: {} };
  for (const b of quick ? [16, 32] : [8, 16, 32]) for (const d of dtypes) sweep[d]![b] = await rawSession(towerFile(d), b, quick ? 64 : 96);
  const best = Object.fromEntries(dtypes.map((d) => [d, Number(Object.entries(sweep[d]!).sort((a, b) => b[1].imgPerSec - a[1].imgPerSec)[0]![0])])) as Record<(typeof dtypes)[number], number>;

  console.log('pipeline vs raw (interleaved)…');
  const jpegSets = sets.filter((s) => s.name.startsWith('JPEG') || /jpg/.test(s.name));
  type Pair = { set: string; dtype: string; batch: number; raw: number[]; rawCpu: number[]; pipe: number[]; pipeCpu: number[]; workers: number; inFlight: number };
  const pairs: Pair[] = [];
  for (const set of jpegSets) for (const d of dtypes) pairs.push({ set: set.name, dtype: d, batch: best[d], raw: [], rawCpu: [], pipe: [], pipeCpu: [], workers: 0, inFlight: 0 });
  for (let r = 0; r < rounds; r++) {
    for (const p of pairs) {
      const files = jpegSets.find((s) => s.name === p.set)!.files;
      const raw = await rawSession(towerFile(p.dtype as 'fp32' | 'int8'), p.batch, pipelineInputs(files, p.batch).length);
      const pipe = await pipeline(bundle, files, p.dtype as 'fp32' | 'int8', p.batch);
      p.raw.push(raw.imgPerSec);
      p.rawCpu.push(raw.cpuMsPerImage);
      p.pipe.push(pipe.imgPerSec);
      p.pipeCpu.push(pipe.cpuMsPerImage);
      p.workers = pipe.workers;
      p.inFlight = pipe.inFlight;
      console.log(`  round ${r + 1} ${p.set} ${p.dtype}: raw ${fmt(raw.imgPerSec)} img/s, pipeline ${fmt(pipe.imgPerSec)} img/s (${fmt((100 * pipe.imgPerSec) / raw.imgPerSec, 0)} %)`);
    }
  }

  // Decode workers and images in flight (the defaults come from defaultDecodeSizing), and the image
  // tower's onnxruntime threads spinning (onnxruntime's default) vs sleeping (ours), on 12 MP photos.
  console.log('decode workers / in flight, and onnxruntime spinning on vs off (12 MP, interleaved)…');
  const big = jpegSets.find((s) => /4000/.test(s.name)) ?? jpegSets[0]!;
  type Variant = { dtype: string; workers: number; inFlight: number; spinning: boolean; imgPerSec: number[]; cpuMs: number[] };
  const workersCmp: Variant[] = [];
  for (const d of dtypes) {
    for (const [w, c] of [
      [1, 4],
      [2, 4],
      [1, 8],
      [2, 8],
    ] as const) workersCmp.push({ dtype: d, workers: w, inFlight: c, spinning: false, imgPerSec: [], cpuMs: [] });
  }
  const spinCmp: Variant[] = [];
  for (const d of dtypes) {
    const { workers, concurrency } = defaultDecodeSizing(m0.cores, d);
    for (const spinning of [true, false]) spinCmp.push({ dtype: d, workers, inFlight: concurrency, spinning, imgPerSec: [], cpuMs: [] });
  }
  for (let r = 0; r < Math.max(1, rounds - 1); r++) {
    for (const c of [...workersCmp, ...spinCmp]) {
      const p = await pipeline(bundle, big.files, c.dtype as 'fp32' | 'int8', best[c.dtype as 'fp32' | 'int8'], { decodeWorkers: c.workers, decodeConcurrency: c.inFlight, visionSpinning: c.spinning });
      c.imgPerSec.push(p.imgPerSec);
      c.cpuMs.push(p.cpuMsPerImage);
    }
  }

  console.log('embedding agreement…');
  const sample = big.files.slice(0, 8);
  const cos = (a: Float32Array, b: Float32Array, dim: number) => {
    const out: number[] = [];
    for (let r = 0; r < a.length / dim; r++) {
      let s = 0;
      for (let i = r * dim; i < (r + 1) * dim; i++) s += a[i]! * b[i]!;
      out.push(s);
    }
    return out;
  };
  const fp32 = await ClipEmbedder.create({ model: bundle });
  const exact = await ClipEmbedder.create({ model: bundle, preprocess: 'exact' });
  const int8 = await ClipEmbedder.create({ model: bundle, variant: { vision: 'int8' } });
  const vScaled = (await fp32.embedImages(sample)).vectors;
  const vExact = (await exact.embedImages(sample)).vectors;
  const vInt8 = (await int8.embedImages(sample)).vectors;
  const dim = fp32.dimension;
  await Promise.all([fp32.close(), exact.close(), int8.close()]);
  // A random-weight model maps every image near one direction (raw cosines all ≈ 1): compare
  // embeddings after removing their mean over the sample, where different images differ clearly.
  const mean = new Float32Array(dim);
  for (let r = 0; r < sample.length; r++) for (let i = 0; i < dim; i++) mean[i]! += vScaled[r * dim + i]! / sample.length;
  const centered = (v: Float32Array) => {
    const out = v.map((x, i) => x - mean[i % dim]!);
    for (let r = 0; r < sample.length; r++) {
      let s = 0;
      for (let i = r * dim; i < (r + 1) * dim; i++) s += out[i]! ** 2;
      for (let i = r * dim; i < (r + 1) * dim; i++) out[i]! /= Math.sqrt(s) || 1;
    }
    return out;
  };
  const [cS, cE, cI] = [centered(vScaled), centered(vExact), centered(vInt8)];
  const cosScaledExact = cos(cS, cE, dim);
  const cosFp32Int8 = cos(cS, cI, dim);
  const between: number[] = [];
  for (let r = 1; r < sample.length; r++) between.push(cos(cS.subarray(0, dim), cS.subarray(r * dim, (r + 1) * dim), dim)[0]!);
  const m1 = machine();

  // ---- tables ----
  const line = (cells: string[], widths: number[]) => console.log(`  ${cells.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`);
  const table = (head: string[], rows: string[][]) => {
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    line(head, widths);
    line(widths.map((w) => '-'.repeat(w)), widths);
    for (const r of rows) line(r, widths);
  };
  console.log(`\nembed benchmark — ${path.basename(bundle)}; ${m0.cores}× ${m0.cpu}; load avg at start ${m0.loadavg.map((l) => l.toFixed(2)).join(' ')}, at end ${m1.loadavg.map((l) => l.toFixed(2)).join(' ')}; ${rounds} interleaved rounds, medians`);
  console.log('\ndecode + preprocess to the 224×224 tensor (one image at a time, CPU-ms per image, all threads):');
  table(
    ['images', 'n', 'bits/px', 'scaled (default)', 'exact', 'bare sharp resize', 'scaled / bare', 'scaled vs exact (mean abs, levels)'],
    decode.map((d) => [d.set, String(d.files), fmt(d.bitsPerPixel, 2), fmt(d.scaledCpuMs), d.exactCpuMs === undefined ? '–' : fmt(d.exactCpuMs), d.bareSharpCpuMs === undefined ? '–' : fmt(d.bareSharpCpuMs), d.bareSharpCpuMs ? `${fmt(d.scaledCpuMs / d.bareSharpCpuMs, 2)}×` : '–', d.deviationLevels === undefined ? '–' : fmt(d.deviationLevels, 3)]),
  );
  console.log('\nraw image-tower session (random pixels), img/s (CPU-ms/img):');
  table(
    ['batch', ...dtypes],
    Object.keys(sweep.fp32!).map((b) => [b, ...dtypes.map((d) => `${fmt(sweep[d]![Number(b)]!.imgPerSec)} (${fmt(sweep[d]![Number(b)]!.cpuMsPerImage)})`)]),
  );
  // When the raw session already keeps every core busy, decoding adds its CPU time: the pipeline
  // cannot beat raw / (raw + decode) per image, whatever the overlap.
  const ceiling = (p: Pair) => {
    const d = decode.find((x) => x.set === p.set)?.scaledCpuMs ?? 0;
    return median(p.rawCpu) / (median(p.rawCpu) + d);
  };
  console.log(`\npipeline (files → vectors, ${pipelineBatches} batches) vs raw session at the best batch, same rounds; ceiling = raw CPU-ms / (raw + decode CPU-ms), the most a CPU-bound machine allows:`);
  table(
    ['images', 'dtype', 'batch', 'decode workers / in flight', 'raw img/s', 'pipeline img/s', 'pipeline / raw', 'pipeline CPU-ms/img', 'raw CPU-ms/img', 'CPU-bound ceiling'],
    pairs.map((p) => [p.set, p.dtype, String(p.batch), `${p.workers} / ${p.inFlight}`, fmt(median(p.raw)), fmt(median(p.pipe)), `${fmt(100 * median(p.pipe.map((x, i) => x / p.raw[i]!)), 0)} %`, fmt(median(p.pipeCpu)), fmt(median(p.rawCpu)), `${fmt(100 * ceiling(p), 0)} %`]),
  );
  console.log(`\ndecode workers / images in flight on ${big.name} (pipeline img/s, CPU-ms/img):`);
  table(
    ['dtype', 'workers', 'in flight', 'img/s', 'CPU-ms/img'],
    workersCmp.map((c) => [c.dtype, String(c.workers), String(c.inFlight), fmt(median(c.imgPerSec)), fmt(median(c.cpuMs))]),
  );
  console.log(`\nimage tower's onnxruntime threads spinning between operators (onnxruntime's default) vs sleeping (pixsearch's default), ${big.name}:`);
  table(
    ['dtype', 'spinning', 'img/s', 'CPU-ms/img'],
    spinCmp.map((c) => [c.dtype, c.spinning ? 'on' : 'off', fmt(median(c.imgPerSec)), fmt(median(c.cpuMs))]),
  );
  console.log(`  default sizing on this machine: fp32 ${JSON.stringify(defaultDecodeSizing(m0.cores, 'fp32'))}, int8 ${JSON.stringify(defaultDecodeSizing(m0.cores, 'int8'))}`);
  console.log(
    `\nembedding cosine (mean-centered) on ${sample.length} × ${big.name}: scaled vs exact preprocessing min ${fmt(Math.min(...cosScaledExact), 4)} mean ${fmt(cosScaledExact.reduce((a, b) => a + b, 0) / sample.length, 4)}; fp32 vs int8 tower min ${fmt(Math.min(...cosFp32Int8), 4)} mean ${fmt(cosFp32Int8.reduce((a, b) => a + b, 0) / sample.length, 4)}; different images ${fmt(between.reduce((a, b) => a + b, 0) / between.length, 4)}`,
  );

  const result = {
    benchmark: 'embed',
    started: started.toISOString(),
    machine: { cpu: m0.cpu, cores: m0.cores, memGB: Math.round(os.totalmem() / 2 ** 30), loadavgStart: m0.loadavg, loadavgEnd: m1.loadavg, node: process.version, ort: ort.env.versions.common },
    bundle: { folder: bundle, generatorVersion: GENERATOR_VERSION },
    rounds,
    decode,
    rawSessionSweep: sweep,
    bestBatch: best,
    pipelineBatches,
    pipelineVsRaw: pairs.map((p) => ({ ...p, ratioMedian: median(p.pipe.map((x, i) => x / p.raw[i]!)), cpuBoundCeiling: ceiling(p) })),
    decodeWorkers: workersCmp,
    spinning: spinCmp,
    cosineCentered: { scaledVsExact: cosScaledExact, fp32VsInt8: cosFp32Int8, differentImages: between },
  };
  const out = path.join(root, 'results', `embed-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nwrote ${path.relative(process.cwd(), out)}`);
}

await main();
