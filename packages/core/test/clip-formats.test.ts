// HEIC (libheif WebAssembly), AVIF (sharp) and camera RAW previews (own TIFF/RAF/CR3 walker),
// with fixtures built here: heif-enc (Debian libheif-examples, installed by setup.sh --test) and
// hand-assembled TIFF/RAF containers around JPEGs made by sharp.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIP_PREPROCESS, decodeImage, decodeScaled, preprocessImage } from '../src/clip/preprocess.js';
import { findRawPreview, orientRgb } from '../src/clip/raw-preview.js';
import { ImageDecodeError } from '../src/errors.js';
import { SearchEngine } from '../src/engine/index.js';
import { registerFaiss, tinyBundle } from './engine-helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const PHOTO = path.join(here, 'fixtures/images/photo.jpg');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'pixsearch-formats-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const jpeg = (width: number, height: number, opts: { orientation?: number } = {}): Promise<Buffer> => {
  let img = sharp(PHOTO).resize(width, height, { fit: 'fill' });
  if (opts.orientation) img = img.withMetadata({ orientation: opts.orientation });
  return img.jpeg({ quality: 90 }).toBuffer();
};

/** Mean absolute difference per channel in levels (0..255) between two CHW tensors. */
const levels = (a: Float32Array, b: Float32Array): number => {
  let sum = 0;
  const n = a.length / 3;
  for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) sum += Math.abs(a[c * n + i]! - b[c * n + i]!) * CLIP_PREPROCESS.std![c]! * 255;
  return sum / a.length;
};

/** The Orientation tag (0x0112) of IFD0 in an Exif blob (any prefix before the TIFF header), or undefined. */
function exifOrientation(exif: Buffer | undefined): number | undefined {
  if (!exif) return undefined;
  const le = exif.indexOf('II*\0', 0, 'latin1');
  const tiff = le >= 0 ? le : exif.indexOf('MM\0*', 0, 'latin1');
  if (tiff < 0) return undefined;
  const u16 = (o: number) => (le >= 0 ? exif.readUInt16LE(tiff + o) : exif.readUInt16BE(tiff + o));
  const ifd = le >= 0 ? exif.readUInt32LE(tiff + 4) : exif.readUInt32BE(tiff + 4);
  for (let e = 0; e < u16(ifd); e++) if (u16(ifd + 2 + e * 12) === 0x0112) return u16(ifd + 2 + e * 12 + 8);
  return undefined;
}

describe('HEIC and AVIF', () => {
  it('decodes HEIC (HEVC) in WebAssembly: the primary image, same content as its JPEG source', async () => {
    const src = path.join(dir, 'src.jpg');
    writeFileSync(src, await jpeg(640, 480));
    const heic = path.join(dir, 'photo.heic');
    execFileSync('heif-enc', ['-q', '90', src, '-o', heic]);
    const img = await decodeImage(heic);
    expect([img.width, img.height, img.format]).toEqual([640, 480, 'heic']);
    const fromHeic = await preprocessImage(heic, CLIP_PREPROCESS);
    const fromJpeg = await preprocessImage(src, CLIP_PREPROCESS, { preprocess: 'exact' });
    expect(fromHeic.source).toEqual({ width: 640, height: 480, format: 'heic' });
    expect(levels(fromHeic.data, fromJpeg.data)).toBeLessThan(4); // lossy HEVC vs the JPEG it was made from
    // Same pixels from the bytes.
    expect((await preprocessImage(readFileSync(heic), CLIP_PREPROCESS)).data).toEqual(fromHeic.data);
  });

  it('takes the primary image of a multi-image HEIF, not the first stored one', async () => {
    const a = path.join(dir, 'a.jpg');
    const b = path.join(dir, 'b.jpg');
    writeFileSync(a, await jpeg(64, 48));
    writeFileSync(b, await jpeg(80, 60));
    const multi = path.join(dir, 'multi.heic');
    execFileSync('heif-enc', ['-q', '80', a, b, '-o', multi]);
    expect((await decodeImage(multi)).width).toBe(64); // the first image is the primary one
    // Point the primary-item box (pitm) at the second image (the next item id that is an image).
    const bytes = readFileSync(multi);
    const at = bytes.indexOf('pitm');
    expect(at).toBeGreaterThan(0);
    const first = bytes.readUInt16BE(at + 8);
    let other: { width: number; height: number } | undefined;
    for (let id = first + 1; id <= first + 6 && !other; id++) {
      bytes.writeUInt16BE(id, at + 8);
      other = await decodeImage(bytes).catch(() => undefined);
    }
    expect([other?.width, other?.height]).toEqual([80, 60]);
  });

  it('rotates HEIC by its irot box only: an EXIF Orientation tag inside is never applied on top', async () => {
    // 64×32: red left half, blue right half, EXIF orientation 6 (which heif-enc 1.15 copies into the HEIC's Exif item).
    const src = path.join(dir, 'o6.jpg');
    await sharp({ create: { width: 64, height: 32, channels: 3, background: { r: 255, g: 0, b: 0 } } })
      .composite([{ input: { create: { width: 32, height: 32, channels: 3, background: { r: 0, g: 0, b: 255 } } }, left: 32, top: 0 }])
      .withMetadata({ orientation: 6 })
      .jpeg({ quality: 95 })
      .toFile(src);
    const plain = path.join(dir, 'exif6.heic');
    execFileSync('heif-enc', ['-q', '90', src, '-o', plain]);
    const bytes = readFileSync(plain);
    expect(exifOrientation((await sharp(bytes).metadata()).exif)).toBe(6); // libvips reads the HEIF header and Exif item
    // A phone's HEIC: the same file with a rotation property (irot, 3 × 90° anti-clockwise = 90° clockwise)
    // on the primary image, written over heif-enc's pixi box (same size, padded; libheif skips the rest).
    const at = bytes.indexOf('pixi') - 4;
    expect(at).toBeGreaterThan(0);
    const rotated = Buffer.from(bytes);
    const size = rotated.readUInt32BE(at);
    rotated.fill(0, at, at + size);
    rotated.writeUInt32BE(size, at);
    rotated.write('irot', at + 4, 'latin1');
    rotated[at + 8] = 3;
    const rotatedFile = path.join(dir, 'irot.heic');
    writeFileSync(rotatedFile, rotated);
    const pixel = (img: { rgb: Uint8Array; width: number }, x: number, y: number) => {
      const i = (y * img.width + x) * 3;
      return img.rgb[i]! > 128 && img.rgb[i + 2]! < 128 ? 'red' : img.rgb[i + 2]! > 128 && img.rgb[i]! < 128 ? 'blue' : 'other';
    };
    // No irot: stored as is (the EXIF tag is not a HEIF transformation).
    const a = await decodeImage(plain);
    expect([a.width, a.height, pixel(a, 2, 16), pixel(a, 61, 16)]).toEqual([64, 32, 'red', 'blue']);
    // irot: turned once, clockwise (red on top); applying EXIF 6 as well would turn it back to 64×32 or upside down.
    for (const input of [rotatedFile, rotated]) {
      const b = await decodeImage(input);
      expect([b.width, b.height, pixel(b, 16, 2), pixel(b, 16, 61)]).toEqual([32, 64, 'red', 'blue']);
      expect((await preprocessImage(input, CLIP_PREPROCESS)).source).toEqual({ width: 32, height: 64, format: 'heic' });
    }
  });

  it('typed errors for damaged or oversized HEIC files', async () => {
    const src = path.join(dir, 'big.jpg');
    writeFileSync(src, await jpeg(320, 240));
    const heic = path.join(dir, 'big.heic');
    execFileSync('heif-enc', ['-q', '60', src, '-o', heic]);
    await expect(decodeImage(heic, { limitInputPixels: 320 * 240 - 1 })).rejects.toMatchObject({ reason: 'too-large' });
    const bytes = readFileSync(heic);
    const cut = path.join(dir, 'cut.heic');
    writeFileSync(cut, bytes.subarray(0, 600));
    const err = await decodeImage(cut).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageDecodeError);
    expect(['corrupt', 'truncated']).toContain((err as ImageDecodeError).reason);
  });

  it('decodes AVIF with sharp (its libvips has an AV1 decoder)', async () => {
    const avif = path.join(dir, 'photo.avif');
    writeFileSync(avif, await sharp(PHOTO).avif({ quality: 70 }).toBuffer());
    const out = await preprocessImage(avif, CLIP_PREPROCESS);
    expect(out.source).toEqual({ width: 640, height: 480, format: 'avif' });
    expect(levels(out.data, (await preprocessImage(PHOTO, CLIP_PREPROCESS, { preprocess: 'exact' })).data)).toBeLessThan(4);
  });
});

/** Little-endian TIFF assembled from IFDs: entries [tag, type, count, value] with value offsets resolved by the caller. */
function tiff(ifds: { entries: [number, number, number, number][]; next?: number }[], blobs: { at: number; data: Uint8Array }[], size: number): Buffer {
  const out = Buffer.alloc(size);
  out.write('II', 0, 'latin1');
  out.writeUInt16LE(42, 2);
  out.writeUInt32LE(8, 4);
  let at = 8;
  ifds.forEach((ifd, k) => {
    out.writeUInt16LE(ifd.entries.length, at);
    ifd.entries.forEach(([tag, type, count, value], e) => {
      const p = at + 2 + e * 12;
      out.writeUInt16LE(tag, p);
      out.writeUInt16LE(type, p + 2);
      out.writeUInt32LE(count, p + 4);
      if (type === 3 && count === 1) out.writeUInt16LE(value, p + 8);
      else out.writeUInt32LE(value, p + 8);
    });
    const nextAt = at + 2 + ifd.entries.length * 12;
    out.writeUInt32LE(ifd.next ?? 0, nextAt);
    at = 8 + (k + 1) * 200; // IFDs laid out every 200 bytes
  });
  for (const b of blobs) out.set(b.data, b.at);
  return out;
}

describe('RAW previews', () => {
  it('indexes the largest embedded JPEG of a TIFF-based RAW (sub-IFD preview, IFD1 thumbnail, lossless raw data), with the RAW orientation', async () => {
    const thumb = await jpeg(160, 120);
    const preview = await jpeg(1200, 900);
    // A lossless-JPEG "sensor data" strip (SOF3): never a preview.
    const rawData = Buffer.from([0xff, 0xd8, 0xff, 0xc3, 0x00, 0x0b, 0x0c, 0x0f, 0xa0, 0x17, 0x70, 0x03, ...new Array(200).fill(0)]);
    const thumbAt = 1000;
    const previewAt = thumbAt + thumb.length + 16;
    const rawAt = previewAt + preview.length + 16;
    const file = tiff(
      [
        // IFD0 (at 8): orientation 6, sub-IFDs at 208 and 408, next IFD (IFD1) at 608.
        { entries: [[0x0112, 3, 1, 6], [0x014a, 4, 1, 208]], next: 608 },
        // Sub-IFD 1 (at 208): the big preview via JPEGInterchangeFormat.
        { entries: [[0x0201, 4, 1, previewAt], [0x0202, 4, 1, preview.length]] },
        // Sub-IFD 2 (at 408): raw data, one lossless-JPEG strip.
        { entries: [[0x0103, 3, 1, 7], [0x0111, 4, 1, rawAt], [0x0117, 4, 1, rawData.length]] },
        // IFD1 (at 608): the small thumbnail.
        { entries: [[0x0201, 4, 1, thumbAt], [0x0202, 4, 1, thumb.length]] },
      ],
      [
        { at: thumbAt, data: thumb },
        { at: previewAt, data: preview },
        { at: rawAt, data: rawData },
      ],
      rawAt + rawData.length + 16,
    );
    // Sub-IFD 2 is reached through IFD0's second sub-IFD pointer: rewrite 0x014A as a 2-entry list.
    const list = 900;
    file.writeUInt32LE(208, list);
    file.writeUInt32LE(408, list + 4);
    file.writeUInt16LE(0x014a, 8 + 2 + 12);
    file.writeUInt32LE(2, 8 + 2 + 12 + 4);
    file.writeUInt32LE(list, 8 + 2 + 12 + 8);
    const nef = path.join(dir, 'DSC_0001.NEF');
    writeFileSync(nef, file);
    const found = findRawPreview(nef);
    expect(found).toMatchObject({ width: 1200, height: 900, orientation: 6 });
    const out = await preprocessImage(nef, CLIP_PREPROCESS);
    expect(out.source).toEqual({ width: 900, height: 1200, format: 'nef' });
    // The same as the preview JPEG rotated by orientation 6, within a level.
    const rotated = await sharp(preview).rotate(90).jpeg({ quality: 100 }).toBuffer();
    expect(levels(out.data, (await preprocessImage(rotated, CLIP_PREPROCESS, { preprocess: 'exact' })).data)).toBeLessThan(2);
    // The exact path uses the preview too (never the TIFF thumbnail sharp would decode).
    expect((await decodeImage(nef)).width).toBe(900);
  });

  it('reads a Fujifilm RAF header and records RAW files without a usable preview as skips', async () => {
    const preview = await jpeg(800, 600, { orientation: 8 });
    const raf = Buffer.alloc(200 + preview.length);
    raf.write('FUJIFILMCCD-RAW 0201FF383501', 0, 'latin1');
    raf.writeUInt32BE(200, 84);
    raf.writeUInt32BE(preview.length, 88);
    raf.set(preview, 200);
    const file = path.join(dir, 'DSCF0001.RAF');
    writeFileSync(file, raf);
    const out = await decodeScaled(file, CLIP_PREPROCESS);
    expect([out.fullWidth, out.fullHeight, out.format]).toEqual([600, 800, 'raf']); // the preview's own EXIF orientation 8
    const bare = path.join(dir, 'IMG_0002.CR2');
    writeFileSync(bare, tiff([{ entries: [[0x0103, 3, 1, 7], [0x0111, 4, 1, 300], [0x0117, 4, 1, 100]] }], [], 400));
    const err = await preprocessImage(bare, CLIP_PREPROCESS).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageDecodeError);
    expect((err as ImageDecodeError).reason).toBe('no-preview');
  });

  it('orients RGB like EXIF: 6 turns clockwise, 8 counter-clockwise, 3 half a turn', () => {
    // 2×1 image: red, green.
    const rgb = Uint8Array.from([255, 0, 0, 0, 255, 0]);
    expect(Array.from(orientRgb(rgb, 2, 1, 6).rgb)).toEqual([255, 0, 0, 0, 255, 0]); // red on top
    expect(orientRgb(rgb, 2, 1, 6)).toMatchObject({ width: 1, height: 2 });
    expect(Array.from(orientRgb(rgb, 2, 1, 8).rgb)).toEqual([0, 255, 0, 255, 0, 0]); // green on top
    expect(Array.from(orientRgb(rgb, 2, 1, 3).rgb)).toEqual([0, 255, 0, 255, 0, 0]);
  });
});


describe('a library of phone and camera formats', () => {
  it('indexes JPEG, HEIC, AVIF and RAW previews; every image-like file is indexed or reported with a reason', async () => {
    await registerFaiss();
    const lib = path.join(dir, 'library');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(lib, { recursive: true });
    const src = path.join(lib, 'IMG_0001.JPG');
    writeFileSync(src, await jpeg(640, 480));
    execFileSync('heif-enc', ['-q', '70', src, '-o', path.join(lib, 'IMG_0002.HEIC')]);
    writeFileSync(path.join(lib, 'IMG_0003.avif'), await sharp(PHOTO).avif({ quality: 50 }).toBuffer());
    const preview = await jpeg(800, 600);
    writeFileSync(path.join(lib, 'IMG_0001.DNG'), tiff([{ entries: [[0x0201, 4, 1, 300], [0x0202, 4, 1, preview.length]] }], [{ at: 300, data: preview }], 300 + preview.length + 8));
    writeFileSync(path.join(lib, 'IMG_0004.CR2'), tiff([{ entries: [[0x0103, 3, 1, 7], [0x0111, 4, 1, 300], [0x0117, 4, 1, 100]] }], [], 400));
    writeFileSync(path.join(lib, 'IMG_0005.X3F'), Buffer.from('FOVb not really a sigma file'));
    const engine = await SearchEngine.open({ dataDir: path.join(dir, 'data'), roots: [lib], model: await tinyBundle() });
    try {
      const summary = await engine.sync();
      expect(summary.added).toBe(4);
      const reasons = Object.fromEntries(summary.skippedFiles.map((f) => [f.path, f.reason]));
      expect(reasons).toEqual({ 'IMG_0004.CR2': 'no-preview', 'IMG_0005.X3F': 'unsupported-format' });
      const formats = (await engine.search('x', { threshold: -1, k: 10 })).results.map((r) => [r.path, r.format]).sort();
      expect(formats).toEqual([
        ['IMG_0001.DNG', 'dng'],
        ['IMG_0001.JPG', 'jpeg'],
        ['IMG_0002.HEIC', 'heic'],
        ['IMG_0003.avif', 'avif'],
      ]);
    } finally {
      await engine.close();
    }
  });
});
