// Real image files for tests and benchmarks: deterministic pictures drawn from a seed and encoded
// by sharp (loaded on first use, so importing this module loads nothing native). One generator
// for every package: the engine, CLI and server tests all write their libraries through it.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Sharp } from 'sharp';

/** Formats the test pictures can be encoded in. */
export type TestImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'avif';

/** A picture's size in pixels. */
export interface TestImageSize {
  width: number;
  height: number;
}

/** Size of a test picture when none is given (pixels): small enough that a test writes hundreds quickly. */
export const DEFAULT_TEST_IMAGE_SIZE: Readonly<TestImageSize> = { width: 48, height: 40 };

/** The format a file name asks for, by its extension (jpg/jpeg, png, webp, gif, tif/tiff, avif); anything else is JPEG. */
export function testImageFormat(file: string): TestImageFormat {
  const ext = path.extname(file).slice(1).toLowerCase();
  if (ext === 'png' || ext === 'webp' || ext === 'gif' || ext === 'avif') return ext;
  if (ext === 'tif' || ext === 'tiff') return 'tiff';
  return 'jpeg';
}

/**
 * Encodes the picture of `seed`: four colour bands in a checker of cells with seed-dependent
 * gradients, all taken from SHA-256 of the seed — so every seed gives another picture (no period:
 * seeds far apart never repeat one) and the same seed, size and format give the same bytes.
 * Cells and gradients scale with the size (8-pixel cells at 48 × 40 and below), so a large picture
 * stays smooth enough that a resized re-encode of it still looks like it.
 * JPEG at quality 90; the other formats at sharp's defaults.
 */
export async function drawTestImage(seed: number, options: Partial<TestImageSize> & { format?: TestImageFormat } = {}): Promise<Buffer> {
  const width = options.width ?? DEFAULT_TEST_IMAGE_SIZE.width;
  const height = options.height ?? DEFAULT_TEST_IMAGE_SIZE.height;
  const scale = Math.max(1, Math.min(width / DEFAULT_TEST_IMAGE_SIZE.width, height / DEFAULT_TEST_IMAGE_SIZE.height));
  const cell = 8 * scale;
  const raw = Buffer.alloc(width * height * 3);
  const h = createHash('sha256').update(String(seed)).digest();
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const band = (Math.floor(x / cell) + Math.floor(y / cell) * (1 + (h[3]! & 3))) % 4;
      raw[o] = (h[band * 3]! + Math.floor((x * (h[12]! & 7)) / scale)) & 255;
      raw[o + 1] = (h[band * 3 + 1]! + Math.floor((y * (h[13]! & 7)) / scale)) & 255;
      raw[o + 2] = h[band * 3 + 2]!;
    }
  }
  const { default: sharp } = await import('sharp');
  const img = sharp(raw, { raw: { width, height, channels: 3 } });
  switch (options.format ?? 'jpeg') {
    case 'png':
      return img.png().toBuffer();
    case 'webp':
      return img.webp().toBuffer();
    case 'gif':
      return img.gif().toBuffer();
    case 'tiff':
      return img.tiff().toBuffer();
    case 'avif':
      return img.avif().toBuffer();
    case 'jpeg':
      return img.jpeg({ quality: 90 }).toBuffer();
  }
}

/**
 * A smooth photo-like scene drawn from `seed` (a background and three soft discs, blurred), as a
 * sharp pipeline to encode as the caller likes (`.jpeg().withExif(…)`). Unlike {@link drawTestImage}
 * it has no fine detail, so a resized, re-encoded or slightly cropped copy stays a near-duplicate:
 * for tests of near-duplicate grouping and of photo metadata.
 */
export async function testScene(seed: number, size: Partial<TestImageSize> = {}): Promise<Sharp> {
  const width = size.width ?? DEFAULT_TEST_IMAGE_SIZE.width;
  const height = size.height ?? DEFAULT_TEST_IMAGE_SIZE.height;
  let x = seed * 2654435761;
  const rnd = (): number => {
    x = (x ^ (x >>> 15)) * 2246822519;
    x = (x ^ (x >>> 13)) >>> 0;
    return (x % 1000) / 1000;
  };
  const colour = (): string => `rgb(${Math.floor(rnd() * 255)},${Math.floor(rnd() * 255)},${Math.floor(rnd() * 255)})`;
  const discs = Array.from({ length: 3 }, () => `<circle cx="${rnd() * 100}%" cy="${rnd() * 100}%" r="${15 + rnd() * 30}%" fill="${colour()}"/>`).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="${colour()}"/>${discs}</svg>`;
  const { default: sharp } = await import('sharp');
  return sharp(Buffer.from(svg)).blur(1.5);
}

/** Writes the picture of `seed` to `file` (creating its folder), encoded as the extension says ({@link testImageFormat}). */
export async function writeTestImage(file: string, seed: number, size: Partial<TestImageSize> = {}): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, await drawTestImage(seed, { ...size, format: testImageFormat(file) }));
}

/** Options for {@link writeTestImages}. */
export interface WriteTestImagesOptions extends Partial<TestImageSize> {
  /** Seed of the first picture; picture i gets `seedBase + i` (default 0). */
  seedBase?: number;
  /** Extension of generated names (`img-<i>.<ext>`, default `jpg`); given names keep theirs. */
  ext?: string;
  /** Sub-folder (`/`-separated) the files go into. */
  sub?: string;
}

/**
 * Writes pictures into `dir`: `images` of them named `img-<i>.<ext>`, or one per given name (names
 * may contain `/`: folders are created). Returns their paths relative to `dir`, `/`-separated.
 */
export async function writeTestImages(dir: string, images: number | readonly string[], options: WriteTestImagesOptions = {}): Promise<string[]> {
  const names = typeof images === 'number' ? Array.from({ length: images }, (_, i) => `img-${i}.${options.ext ?? 'jpg'}`) : images;
  const size = { ...(options.width !== undefined ? { width: options.width } : {}), ...(options.height !== undefined ? { height: options.height } : {}) };
  const rels: string[] = [];
  for (const [i, name] of names.entries()) {
    const rel = options.sub ? `${options.sub}/${name}` : name;
    await writeTestImage(path.join(dir, rel), (options.seedBase ?? 0) + i, size);
    rels.push(rel);
  }
  return rels;
}

/** `count` picture names spread over three folders and three formats, e.g. `album-1/img-0007.png`. */
export function testImageNames(count: number, prefix = 'img'): string[] {
  const exts = ['jpg', 'png', 'webp'];
  return Array.from({ length: count }, (_, i) => `album-${i % 3}/${prefix}-${String(i).padStart(4, '0')}.${exts[i % 3]}`);
}

/** One picture of a {@link writeTestLibrary} folder. */
export interface TestLibraryImage {
  /** Path relative to the folder, `/`-separated. */
  rel: string;
  width: number;
  height: number;
  format: Exclude<TestImageFormat, 'avif'>;
}

const LIBRARY_SIZES: [number, number][] = [
  [640, 480],
  [480, 640],
  [800, 450],
  [512, 512],
  [900, 450],
  [600, 800],
];
const LIBRARY_FORMATS: TestLibraryImage['format'][] = ['jpeg', 'png', 'webp', 'jpeg', 'gif', 'tiff', 'png', 'jpeg'];
const LIBRARY_FOLDERS = ['', 'animals', 'trips/2019', 'trips/2021/summer', 'misc'];
const LIBRARY_NAMES = ['harbour', 'meadow', 'sunrise', 'glacier', 'market', 'forest', 'desert', 'lagoon', 'canyon', 'orchard', 'skyline', 'reef'];

/**
 * A photo-library-like folder: `count` pictures (seeds 0..count−1) of photo sizes, several formats
 * and aspect ratios, in nested folders, plus one named to break naive HTML building (seed `count`).
 * Returns what it wrote.
 */
export async function writeTestLibrary(dir: string, count = 24): Promise<TestLibraryImage[]> {
  const out: TestLibraryImage[] = [];
  const ext = (format: TestLibraryImage['format']): string => (format === 'jpeg' ? 'jpg' : format === 'tiff' ? 'tif' : format);
  for (let i = 0; i < count; i++) {
    const [width, height] = LIBRARY_SIZES[i % LIBRARY_SIZES.length]!;
    const format = LIBRARY_FORMATS[i % LIBRARY_FORMATS.length]!;
    const folder = LIBRARY_FOLDERS[i % LIBRARY_FOLDERS.length]!;
    const rel = path.posix.join(folder, `${LIBRARY_NAMES[i % LIBRARY_NAMES.length]}-${String(i).padStart(2, '0')}.${ext(format)}`);
    await writeTestImage(path.join(dir, rel), i, { width, height });
    out.push({ rel, width, height, format });
  }
  const hostile = `misc/<img src=x onerror=alert(1)> "quote".png`;
  await writeTestImage(path.join(dir, hostile), count, { width: 400, height: 300 });
  out.push({ rel: hostile, width: 400, height: 300, format: 'png' });
  return out;
}
