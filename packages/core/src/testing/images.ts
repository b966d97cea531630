// Hostile image files for tests, built byte by byte (no encoder involved).
import { deflateSync } from 'node:zlib';

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** One PNG chunk (length, type, data, CRC). */
export function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/**
 * A valid 1-bit grayscale PNG of `width` × `height` (all black), compressed to a few KB however
 * large it declares itself: a decompression bomb (20 000 × 20 000 is 400 M pixels in ~50 KB).
 */
export function bombPng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // grayscale
  const row = Buffer.alloc(1 + Math.ceil(width / 8)); // filter byte + packed pixels
  const raw = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(raw, { level: 9 })), pngChunk('IEND', Buffer.alloc(0))]);
}

/** Options of {@link rawLikeTiff}. */
export interface RawLikeTiffOptions {
  /** EXIF orientation written in IFD0 (default 1). */
  orientation?: number;
  /** Bytes of stand-in "sensor data" between the IFD and the preview (default 0). */
  sensorBytes?: number;
}

/**
 * A camera-RAW stand-in (DNG/NEF-shaped TIFF, little-endian): IFD0 holds the orientation and a
 * JPEG preview (JPEGInterchangeFormat/Length) stored after `sensorBytes` of zeros. What the RAW
 * preview walker reads in real files, with nothing else; `jpeg` is used as given.
 */
export function rawLikeTiff(jpeg: Uint8Array, options: RawLikeTiffOptions = {}): Buffer {
  const at = 512 + (options.sensorBytes ?? 0);
  const b = Buffer.alloc(at + jpeg.length);
  b.write('II', 0, 'latin1');
  b.writeUInt16LE(42, 2);
  b.writeUInt32LE(8, 4);
  b.writeUInt16LE(3, 8);
  const entry = (i: number, tag: number, type: number, value: number) => {
    const p = 10 + i * 12;
    b.writeUInt16LE(tag, p);
    b.writeUInt16LE(type, p + 2);
    b.writeUInt32LE(1, p + 4);
    if (type === 3) b.writeUInt16LE(value, p + 8);
    else b.writeUInt32LE(value, p + 8);
  };
  entry(0, 0x0112, 3, options.orientation ?? 1);
  entry(1, 0x0201, 4, at);
  entry(2, 0x0202, 4, jpeg.length);
  b.set(jpeg, at);
  return b;
}
