/**
 * Recognises image formats from their first bytes (never from the file name) and reads the
 * declared dimensions where the header states them cheaply, so that decompression bombs and
 * absurd dimensions are refused before any decoder allocates memory.
 */

import { RAW_EXTENSIONS, UNSUPPORTED_RAW_EXTENSIONS } from '../clip/raw-preview.js';

/** Formats the embedder decodes: sharp's, plus HEIC (libheif WebAssembly). Camera RAWs are recognised by extension (their preview is decoded). */
export const DECODABLE_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif', 'svg', 'heic']);

/** File extensions (lower case, no dot) the walker treats as images: each is indexed or reported with a reason, never ignored. */
export const IMAGE_EXTENSIONS = new Set([
  'jpg', 'jpeg', 'jpe', 'jfif', 'png', 'apng', 'webp', 'gif', 'tif', 'tiff', 'avif', 'svg',
  'heic', 'heif', 'hif', 'heics', 'avifs',
  ...RAW_EXTENSIONS,
  // Recognised so they are reported as unsupported instead of silently ignored:
  ...UNSUPPORTED_RAW_EXTENSIONS, 'bmp', 'jxl', 'jp2', 'j2k', 'jpx', 'psd', 'ico', 'tga', 'svgz',
]);

/** Default pixel limit (width × height), the same as sharp's `limitInputPixels` default (0x3FFF²). */
export const DEFAULT_MAX_PIXELS = 0x3fff * 0x3fff;

export interface Sniffed {
  /** `jpeg`, `png`, …, `heic`, `bmp`, `jxl`, or `unknown`. */
  format: string;
  /** Declared dimensions, when the header states them. */
  width?: number;
  height?: number;
}

const ascii = (b: Uint8Array, start: number, len: number): string => String.fromCharCode(...b.subarray(start, start + len));

/** Identifies the format of `head` (the file's first bytes; ≥ 64 KiB recommended for JPEG dimensions). */
export function sniffImage(head: Uint8Array): Sniffed {
  const b = head;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = b.length;
  if (n >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return { format: 'jpeg', ...jpegSize(b, dv) };
  if (n >= 8 && b[0] === 0x89 && ascii(b, 1, 3) === 'PNG' && b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a) {
    if (n >= 24 && ascii(b, 12, 4) === 'IHDR') return { format: 'png', width: dv.getUint32(16), height: dv.getUint32(20) };
    return { format: 'png' };
  }
  if (n >= 6 && (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a')) {
    return n >= 10 ? { format: 'gif', width: dv.getUint16(6, true), height: dv.getUint16(8, true) } : { format: 'gif' };
  }
  if (n >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return { format: 'webp', ...webpSize(b, dv) };
  if (n >= 4 && ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a && b[3] === 0) || (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 0x2a))) {
    return { format: 'tiff', ...tiffSize(dv) };
  }
  if (n >= 12 && ascii(b, 4, 4) === 'ftyp') return { format: isoBmffFormat(b, dv) };
  if (n >= 2 && b[0] === 0x42 && b[1] === 0x4d) return { format: 'bmp' };
  if ((n >= 2 && b[0] === 0xff && b[1] === 0x0a) || (n >= 12 && ascii(b, 4, 4) === 'JXL ')) return { format: 'jxl' };
  if (looksLikeSvg(b)) return { format: 'svg' };
  return { format: 'unknown' };
}

function jpegSize(b: Uint8Array, dv: DataView): { width?: number; height?: number } {
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return {};
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i++;
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      i += 2;
      continue;
    }
    const len = dv.getUint16(i + 2);
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) return { height: dv.getUint16(i + 5), width: dv.getUint16(i + 7) };
    if (len < 2) return {};
    i += 2 + len;
  }
  return {};
}

function webpSize(b: Uint8Array, dv: DataView): { width?: number; height?: number } {
  if (b.length < 30) return {};
  const chunk = ascii(b, 12, 4);
  if (chunk === 'VP8 ' && b[23] === 0x9d && b[24] === 0x01 && b[25] === 0x2a) {
    return { width: dv.getUint16(26, true) & 0x3fff, height: dv.getUint16(28, true) & 0x3fff };
  }
  if (chunk === 'VP8L' && b[20] === 0x2f) {
    const bits = dv.getUint32(21, true);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X') {
    const w = (b[24]! | (b[25]! << 8) | (b[26]! << 16)) + 1;
    const h = (b[27]! | (b[28]! << 8) | (b[29]! << 16)) + 1;
    return { width: w, height: h };
  }
  return {};
}

function tiffSize(dv: DataView): { width?: number; height?: number } {
  try {
    const le = dv.getUint8(0) === 0x49;
    const ifd = dv.getUint32(4, le);
    const count = dv.getUint16(ifd, le);
    let width: number | undefined;
    let height: number | undefined;
    for (let e = 0; e < count; e++) {
      const off = ifd + 2 + e * 12;
      const tag = dv.getUint16(off, le);
      const type = dv.getUint16(off + 2, le);
      const value = type === 3 ? dv.getUint16(off + 8, le) : dv.getUint32(off + 8, le);
      if (tag === 256) width = value;
      else if (tag === 257) height = value;
    }
    return width !== undefined && height !== undefined ? { width, height } : {};
  } catch {
    return {}; // IFD beyond the bytes we have: no cheap answer
  }
}

function isoBmffFormat(b: Uint8Array, dv: DataView): string {
  const boxSize = Math.min(dv.getUint32(0), b.length);
  const brands: string[] = [ascii(b, 8, 4)];
  for (let off = 16; off + 4 <= boxSize; off += 4) brands.push(ascii(b, off, 4));
  if (brands.some((x) => x === 'avif' || x === 'avis')) return 'avif';
  if (brands.some((x) => ['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1'].includes(x))) return 'heic';
  if (brands.some((x) => x === 'jxl ')) return 'jxl';
  return 'unknown';
}

function looksLikeSvg(b: Uint8Array): boolean {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(b.subarray(0, 4096)).replace(/^\uFEFF/, '');
  const start = text.trimStart();
  if (!start.startsWith('<')) return false;
  return /<svg[\s>]/i.test(text);
}

const MIME_TYPES: Readonly<Record<string, string>> = {
  jpeg: 'image/jpeg',
  jpg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  heic: 'image/heic',
  heif: 'image/heic',
  tiff: 'image/tiff',
  tif: 'image/tiff',
  bmp: 'image/bmp',
  jxl: 'image/jxl',
  svg: 'image/svg+xml',
};

/** MIME type of a format name as `sniffImage` (or sharp) names it; undefined when unknown. */
export function mimeForFormat(format: string): string | undefined {
  return MIME_TYPES[format.toLowerCase()];
}

