/** An image type recognised from its first bytes. */
export interface SniffedType {
  /** Short format name, as sharp names it (`jpeg`, `png`, `gif`, `webp`, `avif`, `heif`, `tiff`, `bmp`). */
  format: string;
  /** MIME type for `Content-Type`. */
  mime: string;
  /** Whether sharp's prebuilt binaries decode it (HEIC/HEIF and BMP do not). */
  decodable: boolean;
}

const JPEG: SniffedType = { format: 'jpeg', mime: 'image/jpeg', decodable: true };
const PNG: SniffedType = { format: 'png', mime: 'image/png', decodable: true };
const GIF: SniffedType = { format: 'gif', mime: 'image/gif', decodable: true };
const WEBP: SniffedType = { format: 'webp', mime: 'image/webp', decodable: true };
const AVIF: SniffedType = { format: 'avif', mime: 'image/avif', decodable: true };
const HEIF: SniffedType = { format: 'heif', mime: 'image/heic', decodable: false };
const TIFF: SniffedType = { format: 'tiff', mime: 'image/tiff', decodable: true };
const BMP: SniffedType = { format: 'bmp', mime: 'image/bmp', decodable: false };

/** Bytes needed by {@link sniffImageType} to recognise every supported type. */
export const SNIFF_BYTES = 64;

function ascii(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end && i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/**
 * Recognises a raster image from its magic bytes (never from a file name or a declared type).
 * Returns undefined for anything else (text, SVG, archives, truncated headers).
 */
export function sniffImageType(bytes: Uint8Array): SniffedType | undefined {
  const b = (i: number): number => bytes[i] ?? -1;
  if (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return JPEG;
  if (ascii(bytes, 0, 8) === '\x89PNG\r\n\x1a\n') return PNG;
  const six = ascii(bytes, 0, 6);
  if (six === 'GIF87a' || six === 'GIF89a') return GIF;
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return WEBP;
  if ((b(0) === 0x49 && b(1) === 0x49 && b(2) === 0x2a && b(3) === 0x00) || (b(0) === 0x4d && b(1) === 0x4d && b(2) === 0x00 && b(3) === 0x2a)) return TIFF;
  if (ascii(bytes, 4, 8) === 'ftyp') {
    // ISO-BMFF: the major brand and the compatible brands (up to the box size) say AVIF or HEIF.
    const boxSize = ((b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3)) >>> 0;
    const end = Math.min(boxSize, bytes.length);
    const brands: string[] = [ascii(bytes, 8, 12)];
    for (let i = 16; i + 4 <= end; i += 4) brands.push(ascii(bytes, i, i + 4));
    if (brands.includes('avif') || brands.includes('avis')) return AVIF;
    if (brands.some((x) => ['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1'].includes(x))) return HEIF;
    return undefined;
  }
  if (b(0) === 0x42 && b(1) === 0x4d && bytes.length >= 26) {
    // BMP: "BM", then a DIB header whose size is one of the known ones.
    const dib = b(14) | (b(15) << 8) | (b(16) << 16) | (b(17) << 24);
    if ([12, 40, 52, 56, 64, 108, 124].includes(dib)) return BMP;
  }
  return undefined;
}

/** MIME type for a catalog format name (sharp's), for files that do not sniff (e.g. SVG). */
export function mimeForFormat(format: string): string | undefined {
  switch (format.toLowerCase()) {
    case 'jpeg':
    case 'jpg':
      return 'image/jpeg';
    case 'png':
      return 'image/png';
    case 'gif':
      return 'image/gif';
    case 'webp':
      return 'image/webp';
    case 'avif':
      return 'image/avif';
    case 'heif':
    case 'heic':
      return 'image/heic';
    case 'tiff':
    case 'tif':
      return 'image/tiff';
    case 'bmp':
      return 'image/bmp';
    case 'svg':
      return 'image/svg+xml';
    default:
      return undefined;
  }
}
