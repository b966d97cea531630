// CLIP image preprocessing: sharp decodes (EXIF orientation applied, first frame of animations,
// converted to 8-bit RGB like PIL's Image.convert('RGB')), then the reference transform runs in JS:
// resize the shortest side with PIL's bicubic (bit-exact port), center crop (torchvision's
// rounding), scale to [0,1], normalise by mean/std, CHW float32.
import { closeSync, fstatSync, readSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { sniffImage, type Sniffed } from '../engine/sniff.js';
import { ImageDecodeError, InvalidArgumentError, ModelBundleError, NotAFileError } from '../errors.js';
import { assertRegularFile, openRegularFileSync } from '../regular-file.js';
import { decodeHeif, HeifPixelLimitError } from './heif.js';
import { findRawPreview, isRawFileName, orientRgb, type RawPreview } from './raw-preview.js';
import { PIL_RESAMPLE_CODES, resampleRgb, type ResampleFilter } from './resample.js';

/** Preprocessing parameters (from a bundle's preprocessor_config.json). */
export interface PreprocessConfig {
  /** Resize target: the shortest side (keeping the aspect ratio) or an exact size; null = no resize. */
  resize: { shortestEdge: number } | { width: number; height: number } | null;
  /** Center crop size; null = no crop. */
  crop: { width: number; height: number } | null;
  filter: ResampleFilter;
  /** Multiplier from 0..255 to the model's range (1/255). */
  rescaleFactor: number;
  /** Per-channel mean and std (RGB), or null to skip normalisation. */
  mean: [number, number, number] | null;
  std: [number, number, number] | null;
}

/** OpenAI CLIP's transform at 224 px. */
export const CLIP_PREPROCESS: PreprocessConfig = {
  resize: { shortestEdge: 224 },
  crop: { width: 224, height: 224 },
  filter: 'bicubic',
  rescaleFactor: 1 / 255,
  mean: [0.48145466, 0.4578275, 0.40821073],
  std: [0.26862954, 0.26130258, 0.27577711],
};

function sizeOf(v: unknown, what: string): { width: number; height: number } | { shortestEdge: number } | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isInteger(v) && v > 0) return { shortestEdge: v };
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.shortest_edge === 'number' && o.shortest_edge > 0) return { shortestEdge: o.shortest_edge };
    if (typeof o.height === 'number' && typeof o.width === 'number' && o.height > 0 && o.width > 0) return { width: o.width, height: o.height };
  }
  throw new ModelBundleError(`preprocessor_config.json: unsupported ${what} ${JSON.stringify(v)}`);
}

function triple(v: unknown, what: string): [number, number, number] {
  if (typeof v === 'number') return [v, v, v];
  if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x))) return v as [number, number, number];
  throw new ModelBundleError(`preprocessor_config.json: ${what} must be 3 numbers, got ${JSON.stringify(v)}`);
}

/** Parses a Hugging Face CLIP `preprocessor_config.json` (old and new field styles). */
export function parsePreprocessorConfig(json: unknown): PreprocessConfig {
  if (typeof json !== 'object' || json === null) throw new ModelBundleError('preprocessor_config.json is not an object');
  const j = json as Record<string, unknown>;
  const size = sizeOf(j.size, 'size') ?? CLIP_PREPROCESS.resize;
  const cropRaw = sizeOf(j.crop_size, 'crop_size');
  const crop = cropRaw === undefined ? (size && 'shortestEdge' in size ? { width: size.shortestEdge, height: size.shortestEdge } : null) : 'shortestEdge' in cropRaw ? { width: cropRaw.shortestEdge, height: cropRaw.shortestEdge } : cropRaw;
  const resampleCode = j.resample ?? 3;
  const filter = typeof resampleCode === 'number' ? PIL_RESAMPLE_CODES[resampleCode] : undefined;
  if (!filter) throw new ModelBundleError(`preprocessor_config.json: unsupported resample ${JSON.stringify(resampleCode)}`);
  const doNormalize = j.do_normalize !== false;
  return {
    resize: j.do_resize === false ? null : size,
    crop: j.do_center_crop === false ? null : crop,
    filter,
    rescaleFactor: j.do_rescale === false ? 1 : typeof j.rescale_factor === 'number' ? j.rescale_factor : 1 / 255,
    mean: doNormalize ? triple(j.image_mean ?? CLIP_PREPROCESS.mean, 'image_mean') : null,
    std: doNormalize ? triple(j.image_std ?? CLIP_PREPROCESS.std, 'image_std') : null,
  };
}

/** Output tensor size (width, height) for a config, or undefined when it depends on the image. */
export function outputSize(config: PreprocessConfig): { width: number; height: number } | undefined {
  if (config.crop) return config.crop;
  if (config.resize && 'width' in config.resize) return config.resize;
  return undefined;
}

/** A decoded image: packed 8-bit RGB after EXIF orientation. */
export interface DecodedImage {
  rgb: Uint8Array;
  width: number;
  height: number;
  /** sharp's format name: jpeg, png, webp, gif, tiff, … */
  format: string;
}

export interface DecodeOptions {
  /** Reject images with more pixels than this (width × height) with reason `too-large` (default 268 402 689 = 0x3FFF²; sharp's default). */
  limitInputPixels?: number;
}

const TRUNCATED = 'the image data is truncated (the file ends early)';

/** Where an input came from, for error messages. */
export function describeInput(input: string | Uint8Array): string {
  return typeof input === 'string' ? input : `<buffer ${input.byteLength} bytes>`;
}

/**
 * A typed decode error whose message is ours alone: libvips' text is kept only as the `cause`.
 * Its error buffer is shared by every decode in the process, so the text of one failure can name
 * another file (or repeat another's error); users see a fixed sentence per reason instead.
 */
function decodeError(input: string | Uint8Array, err: unknown): ImageDecodeError {
  const source = describeInput(input);
  if (err instanceof NotAFileError) return new ImageDecodeError(source, 'not-a-file', `not a regular file (${err.kind})`, { cause: err });
  const msg = err instanceof Error ? err.message : String(err);
  const m = msg.toLowerCase();
  let reason = 'corrupt';
  let text = 'cannot decode the image: its data is damaged or not valid for its format';
  if (m.includes('pixel limit')) {
    reason = 'too-large';
    text = 'the image is larger than the pixel limit (decompression-bomb guard)';
  } else if (m.includes('unsupported image format')) {
    reason = 'unsupported-format';
    text = 'not an image, or a format this build of sharp cannot decode';
  } else if (m.includes('missing') || m.includes('no such file') || m.includes('enoent')) {
    reason = 'not-found';
    text = 'file not found';
  } else if (m.includes('premature end') || m.includes('truncated') || m.includes('unexpected end') || m.includes('short read') || m.includes('not enough data')) {
    reason = 'truncated';
    text = TRUNCATED;
  } else if (m.includes('not been built in')) {
    reason = 'unsupported-format';
    text = 'this HEIF/AVIF file uses a compression format that this build cannot decode';
  }
  if (reason === 'corrupt' && endMarkerMissing(input)) {
    // libvips words the same truncation differently from run to run ("premature end", "read
    // error", …); a JPEG without its EOI marker or a PNG without its IEND chunk is truncated.
    reason = 'truncated';
    text = TRUNCATED;
  }
  return new ImageDecodeError(source, reason, text, { cause: err });
}

/** True for a JPEG whose last bytes hold no EOI marker, or a PNG that does not end in IEND. */
function endMarkerMissing(input: string | Uint8Array): boolean {
  let head: Uint8Array;
  let tail: Uint8Array;
  try {
    if (typeof input === 'string') {
      const fd = openRegularFileSync(input);
      try {
        const size = fstatSync(fd).size;
        head = new Uint8Array(8);
        readSync(fd, head, 0, Math.min(8, size), 0);
        tail = new Uint8Array(Math.min(32, size));
        readSync(fd, tail, 0, tail.length, size - tail.length);
      } finally {
        closeSync(fd);
      }
    } else {
      head = input.subarray(0, 8);
      tail = input.subarray(Math.max(0, input.length - 32));
    }
  } catch {
    return false;
  }
  if (head[0] === 0xff && head[1] === 0xd8) {
    for (let i = 0; i + 1 < tail.length; i++) if (tail[i] === 0xff && tail[i + 1] === 0xd9) return false;
    return true;
  }
  if (head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47) {
    const n = tail.length;
    return !(n >= 8 && tail[n - 8] === 0x49 && tail[n - 7] === 0x45 && tail[n - 6] === 0x4e && tail[n - 5] === 0x44);
  }
  return false;
}

/** How images are decoded and resized for the model. */
export type PreprocessMode = 'scaled' | 'exact';
/** `scaled` (default): decode no more pixels than the target needs (JPEG DCT scaling to ≥ 2× the target, like PIL's `draft()` with headroom), then the exact bicubic; `exact`: full decode and PIL's full convolution, bit-exact with the reference. */
export const PREPROCESS_MODES: readonly PreprocessMode[] = ['scaled', 'exact'];

/** Bytes read from the start of a file to find its format, size and JPEG frame header. */
const HEAD_BYTES = 64 * 1024;
const LONG_HEAD_BYTES = 1024 * 1024;

function readHead(file: string, bytes: number): Uint8Array {
  // Never a blocking open: a FIFO swapped in for an image would hang this thread for good.
  const fd = openRegularFileSync(file);
  try {
    const buf = new Uint8Array(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** What the header of an image declares (never decodes). */
export interface Probed extends Sniffed {
  /** JPEG only: colour components of the frame (1 gray, 3 YCbCr/RGB, 4 CMYK/YCCK). */
  components?: number;
}

/** Format, size and JPEG components declared by the header of a file or buffer (never decodes). */
export function probeImage(input: string | Uint8Array): Probed {
  let head = typeof input === 'string' ? readHead(input, HEAD_BYTES) : input.subarray(0, LONG_HEAD_BYTES);
  let sniffed = sniffImage(head);
  if (sniffed.format !== 'jpeg') return sniffed;
  // A JPEG whose frame header sits behind large APP segments (EXIF thumbnails, MPF previews).
  if (sniffed.width === undefined && typeof input === 'string' && head.length === HEAD_BYTES) {
    head = readHead(input, LONG_HEAD_BYTES);
    sniffed = sniffImage(head);
  }
  const components = jpegComponents(head);
  return components === undefined ? sniffed : { ...sniffed, components };
}

/** Number of components in a JPEG's frame header (SOFn), or undefined when not in `b`. */
function jpegComponents(b: Uint8Array): number | undefined {
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return undefined;
    const marker = b[i + 1]!;
    if (marker === 0xff || marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += marker === 0xff ? 1 : 2;
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return b[i + 9];
    i += 2 + ((b[i + 2]! << 8) | b[i + 3]!);
  }
  return undefined;
}

/**
 * The JPEG DCT scale: the largest of 8, 4, 2, 1 that keeps the decoded short side at least
 * {@link DRAFT_HEADROOM} × the resize target (PIL's `draft()` with headroom, for fidelity).
 */
/**
 * How much larger than the resize target the DCT-scaled image must stay (short side ≥ 2 × 224).
 * PIL's `draft()` keeps only 1× and that is not close enough to the exact bicubic on detailed
 * photos: measured mean abs deviation from the exact path, 0–255 scale, on JPEGs whose detail sits
 * at thumbnail scale (seeded luma texture, q92): 1× 1.05–2.82 levels, 1.5× up to 1.95, 2× 0.27–0.75
 * (≤ 0.36 on the embed benchmark's camera-like photos). It costs ~5 (2 MP) to ~10 (12 MP) CPU-ms more.
 */
export const DRAFT_HEADROOM = 2;

export function jpegDraftScale(width: number, height: number, resize: PreprocessConfig['resize']): number {
  if (!resize) return 1;
  const need = 'shortestEdge' in resize ? resize.shortestEdge : Math.max(resize.width, resize.height);
  const room = Math.floor(Math.min(width, height) / (need * DRAFT_HEADROOM));
  return room >= 8 ? 8 : room >= 4 ? 4 : room >= 2 ? 2 : 1;
}

/** A decoded image and, when it was decoded reduced, the full size it stands for. */
export interface ScaledImage extends DecodedImage {
  /** Size of the full image after EXIF orientation. */
  fullWidth: number;
  fullHeight: number;
  /** DCT scale denominator used on load (1 = full size). */
  scale: number;
}

const pixelLimitError = (input: string | Uint8Array, width: number, height: number, limit: number) =>
  new ImageDecodeError(describeInput(input), 'too-large', `image is larger than the pixel limit (decompression-bomb guard): ${width}×${height} exceeds ${limit} pixels`);

/**
 * Decodes an image for a model input of the given preprocessing config, with no more pixels than
 * it needs: a JPEG file is decoded with libjpeg's DCT scaling (1/2, 1/4, 1/8, chosen like PIL's
 * `draft()` but keeping 2× the target) in one libvips load, other formats at full size. The header is read first (a few
 * KiB from the page cache) to pick the scale; libvips then opens the file once.
 * Throws {@link ImageDecodeError}.
 */
export async function decodeScaled(input: string | Uint8Array, config: PreprocessConfig, options: DecodeOptions = {}): Promise<ScaledImage> {
  if (typeof input !== 'string' && input.byteLength === 0) throw new ImageDecodeError(describeInput(input), 'empty', 'empty input');
  const limit = options.limitInputPixels ?? 0x3fff * 0x3fff;
  let sniffed: Probed;
  try {
    sniffed = probeImage(input);
  } catch (err) {
    throw decodeError(input, err);
  }
  if (isRaw(input, sniffed)) return decodeRawPreview(input, config, limit);
  const { format, width, height, components } = sniffed;
  if (width !== undefined && height !== undefined && width * height > limit) throw pixelLimitError(input, width, height, limit);
  if (format === 'jpeg' && typeof input !== 'string' && width !== undefined && height !== undefined && components !== undefined && components !== 4) {
    return decodeJpegBytes(input, { width, height }, config, limit, undefined);
  }
  // libvips reads `name[shrink=N]` as load options; a name with brackets is read through a buffer instead.
  const plainName = typeof input === 'string' && !input.includes('[') && !input.includes(']');
  if (format === 'jpeg' && width !== undefined && height !== undefined && components !== undefined && components !== 4 && plainName) {
    const scale = jpegDraftScale(width, height, config.resize);
    try {
      const src = scale > 1 ? `${input}[shrink=${scale}]` : input;
      const img = sharp(src, { limitInputPixels: limit, pages: 1, page: 0, ignoreIcc: true }).autoOrient();
      const { data, info } = await img.removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
      if (info.channels !== 3) throw new Error(`unexpected decode with ${info.channels} channels`);
      // EXIF orientation 5..8 swaps the sides (libjpeg's scaled size is ceil(side / scale)).
      const swapped = !(info.width === Math.ceil(width / scale) && info.height === Math.ceil(height / scale));
      return {
        rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
        width: info.width,
        height: info.height,
        format,
        fullWidth: swapped ? height : width,
        fullHeight: swapped ? width : height,
        scale,
      };
    } catch (err) {
      throw decodeError(input, err);
    }
  }
  const img = await decodeImage(input, options, sniffed);
  return { ...img, fullWidth: img.width, fullHeight: img.height, scale: 1 };
}

/** RAW camera files: by extension for paths; RAF and CR3 bytes by their magic numbers. */
function isRaw(input: string | Uint8Array, sniffed: Sniffed): boolean {
  if (typeof input === 'string') return isRawFileName(input);
  if (sniffed.format !== 'unknown') return false;
  const head = input.subarray(0, 16);
  return String.fromCharCode(...head.subarray(0, 15)) === 'FUJIFILMCCD-RAW' || String.fromCharCode(...head.subarray(4, 12)) === 'ftypcrx ';
}

/** Format name of a RAW input (its extension, e.g. `nef`), for the catalog. */
function rawFormat(input: string | Uint8Array): string {
  if (typeof input !== 'string') return 'raw';
  return input.slice(input.lastIndexOf('.') + 1).toLowerCase();
}

/**
 * A RAW file's largest embedded JPEG preview, decoded reduced like a JPEG, with the RAW's
 * orientation. Throws ImageDecodeError `no-preview` when the file has none sharp can decode.
 */
async function decodeRawPreview(input: string | Uint8Array, config: PreprocessConfig, limit: number): Promise<ScaledImage> {
  let preview: RawPreview | undefined;
  try {
    preview = findRawPreview(input);
  } catch (err) {
    throw decodeError(input, err);
  }
  if (!preview) {
    throw new ImageDecodeError(
      describeInput(input),
      'no-preview',
      'RAW file without an embedded JPEG preview that can be decoded (pixsearch indexes the preview cameras write, it does not demosaic); export a JPEG to index it',
    );
  }
  if (preview.width * preview.height > limit) throw pixelLimitError(input, preview.width, preview.height, limit);
  const img = await decodeJpegBytes(preview.jpeg, preview, config, limit, preview.orientation === 0 ? undefined : preview.orientation, input);
  return { ...img, format: rawFormat(input) };
}

/**
 * JPEG bytes decoded reduced: libvips takes DCT-scaling options from file names only, so bytes go
 * through sharp's resize, whose shrink-on-load decodes at half the draft scale, then a Lanczos
 * step to the draft size; the exact bicubic follows in {@link transformRgb}. Orientation: the
 * given one (a RAW's), else the JPEG's EXIF.
 */
async function decodeJpegBytes(
  bytes: Uint8Array,
  size: { width: number; height: number },
  config: PreprocessConfig,
  limit: number,
  orientation: number | undefined,
  source: string | Uint8Array = bytes,
): Promise<ScaledImage> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    const scale = jpegDraftScale(size.width, size.height, config.resize);
    const o = orientation ?? (await sharp(buf).metadata()).orientation ?? 1;
    const tw = Math.ceil(size.width / scale);
    const th = Math.ceil(size.height / scale);
    let img = sharp(buf, { limitInputPixels: limit, ignoreIcc: true });
    if (scale > 1) img = img.resize(tw, th, { fit: 'fill', kernel: 'lanczos3' });
    const { data, info } = await img.removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`unexpected decode with ${info.channels} channels`);
    const oriented = orientRgb(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), info.width, info.height, o);
    const swap = o >= 5 && o <= 8;
    return { ...oriented, format: 'jpeg', fullWidth: swap ? size.height : size.width, fullHeight: swap ? size.width : size.height, scale };
  } catch (err) {
    throw decodeError(source, err);
  }
}

/**
 * Decodes an image to 8-bit RGB with sharp: EXIF orientation applied, first page/frame only,
 * alpha dropped keeping the colour underneath (like `PIL.Image.convert('RGB')`: transparent
 * pixels keep their stored RGB, usually black or white), grayscale replicated, 16-bit reduced
 * to 8-bit, embedded ICC profiles ignored (as PIL does), CMYK converted with PIL's formula (R = (255 - C)(255 - K)/255, no colour profile).
 * `sniffed` (the header's format, when already known) spares the metadata read for formats that
 * cannot be CMYK. Throws {@link ImageDecodeError}.
 */
export async function decodeImage(input: string | Uint8Array, options: DecodeOptions = {}, sniffed?: Sniffed): Promise<DecodedImage> {
  if (typeof input !== 'string' && input.byteLength === 0) throw new ImageDecodeError(describeInput(input), 'empty', 'empty input');
  if (typeof input === 'string') {
    // A FIFO or device given to sharp would block a thread of libuv's pool for good.
    try {
      await assertRegularFile(input);
    } catch (err) {
      if (err instanceof NotAFileError) throw new ImageDecodeError(input, 'not-a-file', `not a regular file (${err.kind})`, { cause: err });
      // Missing or unreadable: sharp reports it below, in its own words.
    }
  }
  const limit = options.limitInputPixels ?? 0x3fff * 0x3fff;
  const probed = sniffed ?? probeSafe(input);
  if (probed && isRaw(input, probed)) return decodeRawPreview(input, { ...CLIP_PREPROCESS, resize: null }, limit);
  if (probed?.format === 'heic') return decodeHeifInput(input, limit);
  try {
    const src = typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    // ignoreIcc: PIL (the reference) does not colour-manage; the stored values are what CLIP saw.
    const base = () => sharp(src, { limitInputPixels: limit, pages: 1, page: 0, ignoreIcc: true }).autoOrient();
    const known = sniffed && NEVER_CMYK.has(sniffed.format) ? sniffed.format : undefined;
    const meta = known ? { format: known, space: 'srgb' } : await sharp(src, { limitInputPixels: limit, pages: 1, page: 0 }).metadata();
    const format = meta.format ?? 'unknown';
    if (meta.space === 'cmyk') {
      const { data, info } = await base().pipelineColourspace('cmyk').toColourspace('cmyk').raw().toBuffer({ resolveWithObject: true });
      if (info.channels < 4) throw new Error(`unexpected CMYK decode with ${info.channels} channels`);
      const n = info.width * info.height;
      const rgb = new Uint8Array(n * 3);
      // Pillow's cmyk2rgb: nk = 255 - K; R = nk - round(C * nk / 255) (its MULDIV255).
      const muldiv255 = (a: number, b: number) => {
        const t = a * b + 128;
        return ((t >> 8) + t) >> 8;
      };
      for (let i = 0, s = 0; i < n; i++, s += info.channels) {
        const nk = 255 - data[s + 3]!;
        rgb[i * 3] = nk - muldiv255(data[s]!, nk);
        rgb[i * 3 + 1] = nk - muldiv255(data[s + 1]!, nk);
        rgb[i * 3 + 2] = nk - muldiv255(data[s + 2]!, nk);
      }
      return { rgb, width: info.width, height: info.height, format };
    }
    const { data, info } = await base().removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`unexpected decode with ${info.channels} channels`);
    return { rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, format };
  } catch (err) {
    if (err instanceof ImageDecodeError) throw err;
    throw decodeError(input, err);
  }
}

function probeSafe(input: string | Uint8Array): Probed | undefined {
  try {
    return probeImage(input);
  } catch {
    return undefined; // the decoder reports the problem
  }
}

/** HEIC/HEIF (HEVC) through libheif's WebAssembly build: the primary image, irot/imir applied. */
async function decodeHeifInput(input: string | Uint8Array, limit: number): Promise<DecodedImage> {
  try {
    const bytes = typeof input === 'string' ? await readFile(input) : input;
    const img = await decodeHeif(bytes, limit);
    return { ...img, format: 'heic' };
  } catch (err) {
    if (err instanceof HeifPixelLimitError) throw pixelLimitError(input, err.width, err.height, limit);
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw decodeError(input, err);
    throw new ImageDecodeError(describeInput(input), 'corrupt', `cannot decode HEIC image: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** Formats whose decoded pixels are never CMYK (no metadata read needed to tell). */
const NEVER_CMYK = new Set(['png', 'gif', 'webp', 'avif']);

/**
 * Default reducing gap: images more than 6× larger than the resize target are first box-reduced
 * by an integer factor (keeping ≥ 3× the target) before the bicubic resize, like PIL's
 * `resize(..., reducing_gap=3)`. Smaller images are resized exactly as PIL does.
 */
export const DEFAULT_REDUCING_GAP = 3;

export interface TransformOptions {
  /** PIL-style reducing gap (default {@link DEFAULT_REDUCING_GAP}); `null` = always the exact full convolution. */
  reducingGap?: number | null;
}

/** Resize target for a source size (torchvision/HF: the long side is truncated, not rounded). */
export function resizedSize(width: number, height: number, resize: PreprocessConfig['resize']): { width: number; height: number } {
  if (!resize) return { width, height };
  if ('width' in resize) return { width: resize.width, height: resize.height };
  const s = resize.shortestEdge;
  if (width <= height) return { width: s, height: Math.max(1, Math.trunc((s * height) / width)) };
  return { width: Math.max(1, Math.trunc((s * width) / height)), height: s };
}

/**
 * Applies the CLIP transform to decoded RGB: resize, center crop (padding with zeros when the
 * image is smaller than the crop, like torchvision), rescale and normalise, written as CHW float32
 * into `out` at `offset` (allocated when omitted). Returns the tensor and its size.
 */
export function transformRgb(
  image: Pick<DecodedImage, 'rgb' | 'width' | 'height'> & Partial<Pick<ScaledImage, 'fullWidth' | 'fullHeight' | 'scale'>>,
  config: PreprocessConfig,
  out?: Float32Array,
  offset = 0,
  options: TransformOptions = {},
): { data: Float32Array; width: number; height: number } {
  // A reduced decode (DCT-scaled JPEG) stands for the full image: the resize target follows the
  // full size, and the reduced pixels cover `full / scale` of them (the last block partly).
  const scale = image.scale ?? 1;
  const fullW = image.fullWidth ?? image.width;
  const fullH = image.fullHeight ?? image.height;
  const rs = resizedSize(fullW, fullH, config.resize);
  const gap = options.reducingGap === undefined ? DEFAULT_REDUCING_GAP : (options.reducingGap ?? undefined);
  const box = scale > 1 ? { width: fullW / scale, height: fullH / scale } : undefined;
  const cw = config.crop?.width ?? rs.width;
  const chh = config.crop?.height ?? rs.height;
  // torchvision center_crop: top = int(round((h - ch) / 2)) (round half to even), pads when smaller.
  const top = rs.height >= chh ? pyRound((rs.height - chh) / 2) : -Math.floor((chh - rs.height) / 2);
  const left = rs.width >= cw ? pyRound((rs.width - cw) / 2) : -Math.floor((cw - rs.width) / 2);
  // Only the pixels inside the crop are resampled (same values as resizing everything).
  const x0 = Math.max(0, left);
  const y0 = Math.max(0, top);
  const winW = Math.min(rs.width, left + cw) - x0;
  const winH = Math.min(rs.height, top + chh) - y0;
  const resized = config.resize
    ? resampleRgb(image.rgb, image.width, image.height, rs.width, rs.height, config.filter, gap, box, { left: x0, top: y0, width: winW, height: winH })
    : cropWindow(image.rgb, image.width, x0, y0, winW, winH);
  const plane = cw * chh;
  const data = out ?? new Float32Array(3 * plane);
  const mean = config.mean ?? [0, 0, 0];
  const std = config.std ?? [1, 1, 1];
  const f = config.rescaleFactor;
  // value = (p * f - mean) / std = p * a + b, looked up per level (the same float64 arithmetic,
  // rounded once to float32 when stored, as computing it per pixel).
  const lut = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    const ac = f / std[c]!;
    const bc = -mean[c]! / std[c]!;
    for (let p = 0; p < 256; p++) lut[c * 256 + p] = p * ac + bc;
  }
  if (top >= 0 && left >= 0 && winW === cw && winH === chh) {
    // The usual case: the crop lies inside the resized image; one pass, three planes.
    for (let i = 0, s = 0, o = offset; i < plane; i++, s += 3, o++) {
      data[o] = lut[resized[s]!]!;
      data[o + plane] = lut[256 + resized[s + 1]!]!;
      data[o + 2 * plane] = lut[512 + resized[s + 2]!]!;
    }
    return { data, width: cw, height: chh };
  }
  for (let c = 0; c < 3; c++) {
    const bc = -mean[c]! / std[c]!;
    const base = offset + c * plane;
    for (let y = 0; y < chh; y++) {
      const sy = y + top - y0;
      const rowOut = base + y * cw;
      if (sy < 0 || sy >= winH) {
        data.fill(bc, rowOut, rowOut + cw);
        continue;
      }
      const rowIn = sy * winW;
      for (let x = 0; x < cw; x++) {
        const sx = x + left - x0;
        data[rowOut + x] = sx < 0 || sx >= winW ? bc : lut[c * 256 + resized[(rowIn + sx) * 3 + c]!]!;
      }
    }
  }
  return { data, width: cw, height: chh };
}

function cropWindow(rgb: Uint8Array, w: number, x0: number, y0: number, cw: number, ch: number): Uint8Array {
  if (x0 === 0 && cw === w) return rgb.subarray(y0 * w * 3, (y0 + ch) * w * 3);
  const out = new Uint8Array(cw * ch * 3);
  for (let y = 0; y < ch; y++) out.set(rgb.subarray(((y0 + y) * w + x0) * 3, ((y0 + y) * w + x0 + cw) * 3), y * cw * 3);
  return out;
}

/** Python's round() for .5 cases (half to even), as torchvision's int(round(x)). */
function pyRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Result of {@link preprocessImage}. */
export interface PreprocessedImage {
  /** CHW float32 tensor data, `3 × height × width`. */
  data: Float32Array;
  width: number;
  height: number;
  /** The decoded source image size (after EXIF orientation) and format. */
  source: { width: number; height: number; format: string };
}

/** Options of {@link preprocessImage}. */
export interface PreprocessOptions extends DecodeOptions, TransformOptions {
  /** `scaled` (default) or `exact` (full decode, PIL's full convolution; bit-exact with the reference). See {@link PreprocessMode}. */
  preprocess?: PreprocessMode;
}

/**
 * Decodes and transforms one image (file path or encoded bytes) into CLIP's input tensor.
 * Default (`scaled`): JPEG files decode DCT-scaled to the smallest size ≥ the target, then the
 * exact bicubic runs on the reduced pixels (within a fraction of a level of `exact` on average).
 * `exact`: full-size decode and PIL's full convolution (no reducing gap unless one is given).
 * Throws {@link ImageDecodeError} for undecodable or too-large images.
 */
export async function preprocessImage(input: string | Uint8Array, config: PreprocessConfig = CLIP_PREPROCESS, options: PreprocessOptions = {}): Promise<PreprocessedImage> {
  if (options.preprocess !== undefined && !PREPROCESS_MODES.includes(options.preprocess)) {
    throw new InvalidArgumentError(`preprocess must be one of ${PREPROCESS_MODES.join(', ')}, got ${String(options.preprocess)}`);
  }
  if (options.preprocess === 'exact') {
    const decoded = await decodeImage(input, options);
    const t = transformRgb(decoded, config, undefined, 0, { reducingGap: options.reducingGap ?? null });
    return { ...t, source: { width: decoded.width, height: decoded.height, format: decoded.format } };
  }
  const decoded = await decodeScaled(input, config, options);
  const t = transformRgb(decoded, config, undefined, 0, options);
  return { ...t, source: { width: decoded.fullWidth, height: decoded.fullHeight, format: decoded.format } };
}
