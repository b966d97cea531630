/**
 * How alike are an image and its resized / re-encoded / slightly cropped copies, compared with
 * unrelated images, under a CLIP bundle? Prints the cosine distributions the near-duplicate
 * default threshold is chosen from.
 *
 *   node --conditions=@pixsearch/source --import tsx src/duplicates/threshold.ts <bundle-dir> [bases=24]
 *
 * With a generated bundle (seeded random weights) this measures that bundle only: random towers
 * map every input close to a common direction, so it says nothing about where real CLIP puts
 * unrelated photos — only whether copies stay close under the real preprocessing and architecture.
 */
import { cpus, loadavg } from 'node:os';
import sharp from 'sharp';
import { mulberry32 } from '@pixsearch/core/datasets';

const bundle = process.argv[2];
if (!bundle) throw new Error('usage: threshold.ts <bundle-dir> [bases]');
const bases = Number(process.argv[3] ?? 24);
const { ClipEmbedder } = await import('@pixsearch/core/clip');

/** A varied synthetic "photo": gradient sky, ground, several shapes, and fine noise texture. */
async function scene(seed: number): Promise<Buffer> {
  const r = mulberry32(seed);
  const hue = (): number => Math.floor(r() * 360);
  const shapes = Array.from({ length: 6 }, () => {
    const x = r() * 100;
    const y = 30 + r() * 60;
    const s = 5 + r() * 25;
    return r() < 0.5
      ? `<circle cx="${x}%" cy="${y}%" r="${s}%" fill="hsl(${hue()},${40 + r() * 50}%,${30 + r() * 50}%)"/>`
      : `<rect x="${x}%" y="${y}%" width="${s}%" height="${s * 1.5}%" fill="hsl(${hue()},${40 + r() * 50}%,${30 + r() * 50}%)" transform="rotate(${r() * 40 - 20})"/>`;
  }).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="800" height="600"><defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="hsl(${hue()},60%,70%)"/><stop offset="1" stop-color="hsl(${hue()},50%,40%)"/></linearGradient></defs><rect width="100%" height="100%" fill="url(#g)"/><rect y="${55 + r() * 20}%" width="100%" height="50%" fill="hsl(${hue()},40%,35%)"/>${shapes}</svg>`;
  const base = await sharp(Buffer.from(svg)).raw().toBuffer({ resolveWithObject: true });
  const px = base.data;
  for (let i = 0; i < px.length; i++) px[i] = Math.max(0, Math.min(255, px[i]! + Math.round((r() - 0.5) * 24)));
  return sharp(px, { raw: base.info }).jpeg({ quality: 92 }).toBuffer();
}

const VARIANTS: Record<string, (b: Buffer) => Promise<Buffer>> = {
  'resized 50% (JPEG q85)': (b) => sharp(b).resize(400).jpeg({ quality: 85 }).toBuffer(),
  'resized 25% (JPEG q85)': (b) => sharp(b).resize(200).jpeg({ quality: 85 }).toBuffer(),
  're-encoded JPEG q40': (b) => sharp(b).jpeg({ quality: 40 }).toBuffer(),
  're-encoded WebP q60': (b) => sharp(b).webp({ quality: 60 }).toBuffer(),
  'cropped 5% per side': (b) => sharp(b).extract({ left: 40, top: 30, width: 720, height: 540 }).jpeg({ quality: 90 }).toBuffer(),
  'cropped 10% per side': (b) => sharp(b).extract({ left: 80, top: 60, width: 640, height: 480 }).jpeg({ quality: 90 }).toBuffer(),
  'brightness +10%': (b) => sharp(b).modulate({ brightness: 1.1 }).jpeg({ quality: 90 }).toBuffer(),
};

const embedder = await ClipEmbedder.create({ model: bundle });
const dim = embedder.dimension;
const t0 = performance.now();
const originals = await Promise.all(Array.from({ length: bases }, (_, i) => scene(1000 + i)));
const inputs: Buffer[] = [...originals];
for (const make of Object.values(VARIANTS)) for (const o of originals) inputs.push(await make(o));
const res = await embedder.embedImages(inputs);
const err = res.errors.find((e) => e);
if (err) throw err;
const v = (i: number): Float32Array => res.vectors.subarray(i * dim, (i + 1) * dim);
const cos = (a: Float32Array, b: Float32Array): number => a.reduce((s, x, j) => s + x * b[j]!, 0);
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * (xs.length - 1)))]!;
const row = (name: string, xs: number[]): string =>
  `| ${name} | ${xs.length} | ${pct(xs, 0).toFixed(4)} | ${pct(xs, 0.05).toFixed(4)} | ${pct(xs, 0.5).toFixed(4)} | ${pct(xs, 1).toFixed(4)} |`;
console.log(`bundle ${embedder.modelId} (${dim}-d), ${bases} synthetic 800×600 scenes, ${inputs.length} images embedded in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
console.log(`CPU: ${cpus()[0]?.model ?? '?'}, load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
console.log('| pair | n | min | p5 | median | max |');
console.log('|---|---|---|---|---|---|');
const unrelated: number[] = [];
for (let i = 0; i < bases; i++) for (let j = i + 1; j < bases; j++) unrelated.push(cos(v(i), v(j)));
console.log(row('unrelated scenes', unrelated));
let k = bases;
for (const name of Object.keys(VARIANTS)) {
  const xs: number[] = [];
  for (let i = 0; i < bases; i++) xs.push(cos(v(i), v(k++)));
  console.log(row(`original vs ${name}`, xs));
}
await embedder.close();
