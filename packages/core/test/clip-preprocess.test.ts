import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ImageDecodeError } from '../src/errors.js';
import { CLIP_PREPROCESS, decodeImage, decodeScaled, jpegDraftScale, parsePreprocessorConfig, preprocessImage, transformRgb, type PreprocessConfig } from '../src/clip/preprocess.js';
import { resampleRgb } from '../src/clip/resample.js';
import { pngChunk } from '../src/testing/images.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const IMAGES = path.join(here, 'fixtures/images');
const REFS = path.join(here, 'fixtures/preprocess');
const index = JSON.parse(readFileSync(path.join(REFS, 'index.json'), 'utf8')) as {
  cases: { image: string; size: number; crop: number; reference: string; sourceWidth: number; sourceHeight: number; mode: string }[];
};

function config(size: number): PreprocessConfig {
  return { ...CLIP_PREPROCESS, resize: { shortestEdge: size }, crop: { width: size, height: size } };
}

/** Mean absolute difference per channel, in units of the 0..1 pixel range, between our tensor and the reference crop. */
function meanAbsDiff(tensor: Float32Array, ref: Uint8Array, size: number, cfg: PreprocessConfig): number[] {
  const n = size * size;
  return [0, 1, 2].map((c) => {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const pixel = tensor[c * n + i]! * cfg.std![c]! + cfg.mean![c]!; // undo normalisation → 0..1
      sum += Math.abs(pixel - ref[i * 3 + c]! / 255);
    }
    return sum / n;
  });
}

describe('preprocessing matches the PIL/torchvision CLIP transform', () => {
  for (const c of index.cases) {
    it(`${c.image} (${c.mode}) at ${c.size} px is within 1/255 mean abs diff per channel`, async () => {
      const cfg = config(c.size);
      const out = await preprocessImage(path.join(IMAGES, c.image), cfg, { preprocess: 'exact' });
      expect(out.width).toBe(c.crop);
      expect(out.height).toBe(c.crop);
      expect(out.data).toHaveLength(3 * c.crop * c.crop);
      expect(out.source.width).toBe(c.sourceWidth);
      expect(out.source.height).toBe(c.sourceHeight);
      const ref = new Uint8Array(readFileSync(path.join(REFS, c.reference)));
      for (const d of meanAbsDiff(out.data, ref, c.crop, cfg)) expect(d).toBeLessThanOrEqual(1 / 255);
    });
  }

  it('is bit-exact with PIL on 8-bit sources (same decoded pixels, same resampling arithmetic)', async () => {
    const cfg = config(224);
    const out = await preprocessImage(path.join(IMAGES, 'photo.jpg'), cfg, { preprocess: 'exact' });
    const ref = new Uint8Array(readFileSync(path.join(REFS, 'photo.jpg.224.rgb')));
    const n = 224 * 224;
    let maxLevels = 0;
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < n; i++) {
        const level = (out.data[c * n + i]! * cfg.std![c]! + cfg.mean![c]!) * 255;
        maxLevels = Math.max(maxLevels, Math.abs(level - ref[i * 3 + c]!));
      }
    }
    expect(maxLevels).toBeLessThan(0.01);
  });

  it('keeps the stored colour of fully transparent pixels, like PIL convert("RGB")', async () => {
    // alpha.png has a fully transparent block stored as magenta at x 120..189, y 20..79.
    const img = await decodeImage(path.join(IMAGES, 'alpha.png'));
    const at = (x: number, y: number) => Array.from(img.rgb.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));
    expect(at(150, 50)).toEqual([255, 0, 255]);
  });

  it('ignores embedded ICC profiles, as PIL does', async () => {
    const p3 = await sharp(path.join(IMAGES, 'photo.webp')).withIccProfile('p3').jpeg({ quality: 95 }).toBuffer();
    const img = await decodeImage(p3);
    const stored = await sharp(p3, { ignoreIcc: true }).raw().toBuffer();
    const managed = await sharp(p3).toColourspace('srgb').raw().toBuffer();
    expect(Buffer.from(img.rgb).equals(stored)).toBe(true);
    expect(Buffer.from(img.rgb).equals(managed)).toBe(false);
  });

  it('applies EXIF orientation before resizing', async () => {
    const img = await decodeImage(path.join(IMAGES, 'exif-orientation-6.jpg'));
    expect([img.width, img.height]).toEqual([160, 240]);
  });

  it('takes the first frame of an animated GIF', async () => {
    const first = await decodeImage(path.join(IMAGES, 'animated.gif'));
    const frame0 = await sharp(path.join(IMAGES, 'animated.gif'), { page: 0 }).removeAlpha().raw().toBuffer();
    const frame1 = await sharp(path.join(IMAGES, 'animated.gif'), { page: 1 }).removeAlpha().raw().toBuffer();
    expect(Buffer.from(first.rgb).equals(frame0)).toBe(true);
    expect(Buffer.from(first.rgb).equals(frame1)).toBe(false);
  });

  it('decodes the same from bytes as from a path', async () => {
    const a = await preprocessImage(path.join(IMAGES, 'photo.webp'), config(64));
    const b = await preprocessImage(readFileSync(path.join(IMAGES, 'photo.webp')), config(64));
    expect(b.data).toEqual(a.data);
  });
});

describe('decode errors are typed', () => {
  const reason = async (input: string | Uint8Array, options = {}) => {
    try {
      await decodeImage(input, options);
    } catch (err) {
      expect(err).toBeInstanceOf(ImageDecodeError);
      return (err as ImageDecodeError).reason;
    }
    throw new Error('decoded unexpectedly');
  };
  it('truncated, not an image, missing, empty, too large', async () => {
    expect(await reason(path.join(IMAGES, 'truncated.jpg'))).toBe('truncated');
    expect(await reason(path.join(IMAGES, 'not-an-image.jpg'))).toBe('unsupported-format');
    expect(await reason(path.join(IMAGES, 'does-not-exist.jpg'))).toBe('not-found');
    expect(await reason(new Uint8Array(0))).toBe('empty');
    expect(await reason(path.join(IMAGES, 'photo.jpg'), { limitInputPixels: 640 * 480 - 1 })).toBe('too-large');
  });

  it('rejects a decompression bomb from its header, without decoding it', async () => {
    // A PNG declaring 40000×40000 pixels (1.6 G) whose data would inflate from a few KB of zeros.
    const width = 40000;
    const height = 40000;
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(width, 0);
    ihdr.writeUInt32BE(height, 4);
    ihdr.set([1, 0, 0, 0, 0], 8); // 1-bit grayscale
    const { deflateSync } = await import('node:zlib');
    const rows = deflateSync(Buffer.alloc((width / 8 + 1) * 64));
    const bomb = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', rows), pngChunk('IEND', Buffer.alloc(0))]);
    expect(bomb.byteLength).toBeLessThan(100_000);
    expect(await reason(bomb)).toBe('too-large');
    expect(await reason(bomb, { limitInputPixels: 100_000_000 })).toBe('too-large');
  });
});

describe('preprocessor_config.json parsing', () => {
  it('reads old (numbers) and new (objects) styles', () => {
    const oldStyle = parsePreprocessorConfig({ crop_size: 224, size: 224, resample: 3, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5], do_normalize: true });
    const newStyle = parsePreprocessorConfig({ crop_size: { height: 224, width: 224 }, size: { shortest_edge: 224 }, resample: 3, do_rescale: true, rescale_factor: 1 / 255 });
    expect(oldStyle.resize).toEqual({ shortestEdge: 224 });
    expect(oldStyle.crop).toEqual({ width: 224, height: 224 });
    expect(oldStyle.mean).toEqual([0.5, 0.5, 0.5]);
    expect(newStyle).toEqual(CLIP_PREPROCESS);
  });
  it('rejects unusable values', () => {
    expect(() => parsePreprocessorConfig({ resample: 9 })).toThrow(/resample/);
    expect(() => parsePreprocessorConfig({ image_mean: [1, 2] })).toThrow(/image_mean/);
    expect(() => parsePreprocessorConfig('nope')).toThrow();
  });
});

describe('large images', () => {
  it('box-reduce first (reducing gap 3): within 1/255 of the exact PIL resize, and exact below 6× the target', async () => {
    const big = await sharp(path.join(IMAGES, 'photo.jpg')).resize(2400, 1800, { kernel: 'lanczos3' }).sharpen({ sigma: 1.5 }).raw().toBuffer({ resolveWithObject: true });
    const image = { rgb: new Uint8Array(big.data), width: big.info.width, height: big.info.height };
    const exact = transformRgb(image, CLIP_PREPROCESS, undefined, 0, { reducingGap: null });
    const fast = transformRgb(image, CLIP_PREPROCESS);
    const n = 224 * 224;
    for (let c = 0; c < 3; c++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += Math.abs(exact.data[c * n + i]! - fast.data[c * n + i]!) * CLIP_PREPROCESS.std![c]!;
      expect(sum / n).toBeLessThan(1 / 255);
      expect(sum / n).toBeGreaterThan(0); // the fast path did run
    }
    const decoded = await decodeImage(path.join(IMAGES, 'photo.jpg'));
    expect(transformRgb(decoded, CLIP_PREPROCESS).data).toEqual(transformRgb(decoded, CLIP_PREPROCESS, undefined, 0, { reducingGap: null }).data);
  });
});

describe('resampleRgb', () => {
  it('is the identity at the same size and preserves a constant image', () => {
    const src = new Uint8Array(10 * 8 * 3).fill(77);
    expect(resampleRgb(src, 10, 8, 10, 8)).toBe(src);
    expect(Array.from(new Set(resampleRgb(src, 10, 8, 3, 5)))).toEqual([77]);
    expect(Array.from(new Set(resampleRgb(src, 10, 8, 31, 17)))).toEqual([77]);
  });

  it('gives the same bytes as a plain transcription of PIL\'s bicubic for every tap count (unrolled and general passes)', () => {
    // Pillow's Resample.c written out plainly: float weights normalised per output pixel,
    // 22-bit fixed point, horizontal pass then vertical, rounding and clamping after each.
    const bicubic = (x: number) => {
      x = Math.abs(x);
      return x < 1 ? (1.5 * x - 2.5) * x * x + 1 : x < 2 ? (((x - 5) * x + 8) * x - 4) * -0.5 : 0;
    };
    const pass = (get: (i: number) => number, inSize: number, outSize: number): number[] => {
      const scale = inSize / outSize;
      const fs = Math.max(scale, 1);
      const support = 2 * fs;
      const out: number[] = [];
      for (let o = 0; o < outSize; o++) {
        const center = (o + 0.5) * scale;
        const xmin = Math.max(0, Math.trunc(center - support + 0.5));
        const xmax = Math.min(inSize, Math.trunc(center + support + 0.5));
        const w: number[] = [];
        for (let x = xmin; x < xmax; x++) w.push(bicubic((x - center + 0.5) / fs));
        const total = w.reduce((a, b) => a + b, 0);
        let sum = 1 << 21;
        w.forEach((v, k) => {
          const f = v / total;
          sum += get(xmin + k) * (f < 0 ? Math.trunc(-0.5 + f * (1 << 22)) : Math.trunc(0.5 + f * (1 << 22)));
        });
        out.push(Math.min(255, Math.max(0, sum >> 22)));
      }
      return out;
    };
    const reference = (src: Uint8Array, w: number, h: number, ow: number, oh: number): Uint8Array => {
      const mid = new Uint8Array(ow * h * 3);
      for (let y = 0; y < h; y++) for (let c = 0; c < 3; c++) pass((x) => src[(y * w + x) * 3 + c]!, w, ow).forEach((v, x) => (mid[(y * ow + x) * 3 + c] = v));
      const out = new Uint8Array(ow * oh * 3);
      for (let x = 0; x < ow; x++) for (let c = 0; c < 3; c++) pass((y) => mid[(y * ow + x) * 3 + c]!, h, oh).forEach((v, y) => (out[(y * ow + x) * 3 + c] = v));
      return out;
    };
    let seed = 12345;
    for (const [w, h, ow, oh] of [
      [60, 40, 60, 90], // upscale, vertical only (4 taps)
      [90, 60, 67, 44], // 1.34x: a DCT-scaled 2 MP JPEG to CLIP size (6 taps)
      [100, 75, 60, 45], // 1.67x: a DCT-scaled 12 MP JPEG (7-8 taps)
      [80, 120, 80, 40], // 3x, vertical only (13 taps: the general pass)
      [33, 9, 21, 7], // few rows: the window cannot be moved inside the image
    ] as const) {
      const src = new Uint8Array(w * h * 3).map(() => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >> 16) & 255);
      expect(Buffer.from(resampleRgb(src, w, h, ow, oh)).equals(Buffer.from(reference(src, w, h, ow, oh)))).toBe(true);
    }
  });
});

describe('scaled decoding (the default): no more pixels than the target needs', () => {
  // Camera-size JPEGs made from the fixture photo, upscaled with detail added back.
  const camera = async (width: number, height: number, orientation?: number): Promise<string> => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pixsearch-scaled-'));
    const file = path.join(dir, `camera-${width}x${height}${orientation ? `-o${orientation}` : ''}.jpg`);
    let img = sharp(path.join(IMAGES, 'photo.jpg')).resize(width, height, { fit: 'fill', kernel: 'lanczos3' }).sharpen({ sigma: 1.2 });
    if (orientation) img = img.withMetadata({ orientation });
    await img.jpeg({ quality: 92 }).toFile(file);
    return file;
  };
  /** Mean absolute difference per channel between two tensors, in levels of 0..255. */
  const levels = (a: Float32Array, b: Float32Array): number[] => {
    const n = a.length / 3;
    return [0, 1, 2].map((c) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += Math.abs(a[c * n + i]! - b[c * n + i]!) * CLIP_PREPROCESS.std![c]! * 255;
      return sum / n;
    });
  };

  it('picks the DCT scale like PIL draft() with 2× headroom: the largest of 8, 4, 2 keeping the short side ≥ 2 × the target', () => {
    expect(jpegDraftScale(8000, 6000, { shortestEdge: 224 })).toBe(8);
    expect(jpegDraftScale(4000, 3000, { shortestEdge: 224 })).toBe(4);
    expect(jpegDraftScale(1600, 1200, { shortestEdge: 224 })).toBe(2);
    expect(jpegDraftScale(640, 480, { shortestEdge: 224 })).toBe(1);
    expect(jpegDraftScale(400, 300, { shortestEdge: 224 })).toBe(1);
    expect(jpegDraftScale(4000, 3000, null)).toBe(1);
  });

  it('decodes a 12-MP JPEG at 1/4 scale (2× the target) and stays within 1 level of the exact path', async () => {
    const file = await camera(4000, 3000);
    const decoded = await decodeScaled(file, CLIP_PREPROCESS);
    expect(decoded.scale).toBe(4);
    expect([decoded.width, decoded.height]).toEqual([1000, 750]);
    expect([decoded.fullWidth, decoded.fullHeight]).toEqual([4000, 3000]);
    const scaled = await preprocessImage(file, CLIP_PREPROCESS);
    const exact = await preprocessImage(file, CLIP_PREPROCESS, { preprocess: 'exact' });
    expect(scaled.source).toEqual({ width: 4000, height: 3000, format: 'jpeg' });
    for (const d of levels(scaled.data, exact.data)) {
      expect(d).toBeLessThanOrEqual(1.0);
      expect(d).toBeGreaterThan(0); // the scaled path did run
    }
  });

  it('stays within 1 level of the exact path on photos with detail at thumbnail scale (where draft()’s 1× scale gives up to 2.8)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pixsearch-detail-'));
    for (const [w, h, base] of [[4000, 3000, 250], [1600, 1200, 250]] as const) {
      const bw = base;
      const bh = Math.round(base * 0.75);
      const raw = Buffer.alloc(bw * bh * 3);
      let s = 12345 + base;
      for (let i = 0; i < bw * bh; i++) {
        s = (s * 1103515245 + 12345) & 0x7fffffff;
        const v = (s >> 16) & 255;
        raw[3 * i] = Math.min(255, v * 0.9 + 20 * Math.sin((i % bw) / 40));
        raw[3 * i + 1] = v * 0.8 + 10;
        raw[3 * i + 2] = Math.min(255, v * 0.7 + (40 * i) / (bw * bh));
      }
      const file = path.join(dir, `detail-${w}.jpg`);
      await sharp(raw, { raw: { width: bw, height: bh, channels: 3 } }).resize(w, h, { kernel: 'cubic' }).jpeg({ quality: 92 }).toFile(file);
      const scaled = await preprocessImage(file, CLIP_PREPROCESS);
      const exact = await preprocessImage(file, CLIP_PREPROCESS, { preprocess: 'exact' });
      const d = levels(scaled.data, exact.data);
      expect((d[0]! + d[1]! + d[2]!) / 3).toBeLessThanOrEqual(1.0);
    }
  });

  it('honours EXIF orientation when decoding scaled (sides swapped, same pixels as exact within 1 level)', async () => {
    const file = await camera(2000, 1500, 6);
    const decoded = await decodeScaled(file, CLIP_PREPROCESS);
    expect(decoded.scale).toBe(2);
    expect([decoded.fullWidth, decoded.fullHeight]).toEqual([1500, 2000]);
    expect([decoded.width, decoded.height]).toEqual([750, 1000]);
    const scaled = await preprocessImage(file, CLIP_PREPROCESS);
    const exact = await preprocessImage(file, CLIP_PREPROCESS, { preprocess: 'exact' });
    expect(scaled.source).toEqual({ width: 1500, height: 2000, format: 'jpeg' });
    for (const d of levels(scaled.data, exact.data)) expect(d).toBeLessThanOrEqual(1.0);
  });

  it('reads file names with brackets, bytes and CMYK JPEGs through the full-size path', async () => {
    const file = await camera(1600, 1200);
    const bracketed = path.join(path.dirname(file), 'a[1] (copy).jpg');
    copyFileSync(file, bracketed);
    const viaName = await preprocessImage(bracketed, CLIP_PREPROCESS);
    const viaBytes = await preprocessImage(readFileSync(file), CLIP_PREPROCESS);
    const exact = await preprocessImage(file, CLIP_PREPROCESS, { preprocess: 'exact' });
    for (const d of levels(viaName.data, exact.data)) expect(d).toBeLessThanOrEqual(1.0);
    for (const d of levels(viaBytes.data, exact.data)) expect(d).toBeLessThanOrEqual(1.0);
    const cmyk = await preprocessImage(path.join(IMAGES, 'cmyk.jpg'), config(64));
    const cmykExact = await preprocessImage(path.join(IMAGES, 'cmyk.jpg'), config(64), { preprocess: 'exact' });
    for (const d of levels(cmyk.data, cmykExact.data)) expect(d).toBeLessThanOrEqual(1.0);
  });

  it('refuses a JPEG over the pixel limit from its header, and keeps the typed errors', async () => {
    const file = await camera(1600, 1200);
    await expect(preprocessImage(file, CLIP_PREPROCESS, { limitInputPixels: 1600 * 1200 - 1 })).rejects.toMatchObject({ reason: 'too-large' });
    await expect(preprocessImage(path.join(IMAGES, 'truncated.jpg'), CLIP_PREPROCESS)).rejects.toMatchObject({ reason: 'truncated' });
    await expect(preprocessImage(path.join(IMAGES, 'does-not-exist.jpg'), CLIP_PREPROCESS)).rejects.toMatchObject({ reason: 'not-found' });
    await expect(preprocessImage(file, CLIP_PREPROCESS, { preprocess: 'bogus' as 'exact' })).rejects.toThrow(/preprocess must be one of/);
  });
});
