// Camera RAW files: the largest embedded JPEG preview, found by walking the container's own
// structure (TIFF IFDs for CR2/NEF/ARW/DNG/ORF/RW2/PEF/SRW, the RAF header, the CR3 PRVW box).
// No demosaicing: cameras write a full- or screen-size JPEG rendering of every shot, which is what
// a search index needs. Written here rather than with exiftool-vendored: it reads a few KiB of
// IFDs plus the preview bytes (no perl process, no round trip per file, works inside the decode
// workers), and the containers involved are small, stable, documented structures.
import { closeSync, fstatSync, readSync } from 'node:fs';
import { openRegularFileSync } from '../regular-file.js';

/** File extensions (lower case, no dot) of camera RAW formats whose previews are indexed. */
export const RAW_EXTENSIONS: ReadonlySet<string> = new Set([
  'cr2', 'cr3', 'nef', 'nrw', 'arw', 'srf', 'sr2', 'dng', 'raf', 'orf', 'rw2', 'pef', 'srw',
  // Other TIFF-based RAWs (Hasselblad, Epson, Mamiya/Leaf, Kodak, Phase One, Leica).
  '3fr', 'erf', 'mef', 'mos', 'kdc', 'dcr', 'iiq', 'rwl',
]);

/** RAW formats in other containers (Canon CRW/CIFF, Sigma X3F, Minolta MRW): recognised, reported as unsupported. */
export const UNSUPPORTED_RAW_EXTENSIONS: ReadonlySet<string> = new Set(['crw', 'x3f', 'mrw']);

/** True when `file` has a RAW extension. */
export function isRawFileName(file: string): boolean {
  const dot = file.lastIndexOf('.');
  return dot >= 0 && RAW_EXTENSIONS.has(file.slice(dot + 1).toLowerCase());
}

/** The embedded preview chosen from a RAW file. */
export interface RawPreview {
  /** The preview's JPEG bytes. */
  jpeg: Uint8Array;
  /** Its size as its frame header declares it (before orientation). */
  width: number;
  height: number;
  /** EXIF orientation of the RAW (1..8) to apply to the preview; 1 when none is recorded. */
  orientation: number;
}

/** Random access to the file's bytes (a file descriptor or a buffer). */
interface Source {
  size: number;
  read(offset: number, length: number): Uint8Array;
}

function bufferSource(b: Uint8Array): Source {
  return { size: b.length, read: (o, n) => b.subarray(Math.max(0, o), Math.min(b.length, o + n)) };
}

function fdSource(fd: number): Source {
  const size = fstatSync(fd).size;
  return {
    size,
    read(offset, length) {
      if (offset < 0 || offset >= size) return new Uint8Array(0);
      const buf = new Uint8Array(Math.min(length, size - offset));
      const n = readSync(fd, buf, 0, buf.length, offset);
      return buf.subarray(0, n);
    },
  };
}

const ascii = (b: Uint8Array, start: number, len: number): string => String.fromCharCode(...b.subarray(start, start + len));

interface Candidate {
  offset: number;
  length: number;
}

/** Width, height and frame type of a JPEG from its first bytes, or undefined when not a JPEG sharp decodes. */
function jpegFrame(head: Uint8Array): { width: number; height: number } | undefined {
  if (head.length < 4 || head[0] !== 0xff || head[1] !== 0xd8) return undefined;
  let i = 2;
  while (i + 9 < head.length) {
    if (head[i] !== 0xff) return undefined;
    const m = head[i + 1]!;
    if (m === 0xff || m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) {
      i += m === 0xff ? 1 : 2;
      continue;
    }
    // Baseline, extended and progressive Huffman frames only: lossless JPEG (SOF3, the RAW data of
    // DNG and CR2 sensors) and arithmetic coding are not previews.
    if (m === 0xc0 || m === 0xc1 || m === 0xc2) {
      const height = (head[i + 5]! << 8) | head[i + 6]!;
      const width = (head[i + 7]! << 8) | head[i + 8]!;
      const comps = head[i + 9]!;
      return width > 0 && height > 0 && (comps === 1 || comps === 3) ? { width, height } : undefined;
    }
    if (m >= 0xc3 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) return undefined;
    i += 2 + ((head[i + 2]! << 8) | head[i + 3]!);
  }
  return undefined;
}

/** Walks a TIFF structure at `base`: JPEG candidates from every IFD reached, and IFD0's orientation. */
function walkTiff(src: Source, base: number, out: Candidate[]): number {
  const h = src.read(base, 8);
  if (h.length < 8) return 1;
  const le = h[0] === 0x49 && h[1] === 0x49;
  if (!le && !(h[0] === 0x4d && h[1] === 0x4d)) return 1;
  const dv = new DataView(h.buffer, h.byteOffset, h.byteLength);
  let orientation = 1;
  const seen = new Set<number>();
  const queue: { offset: number; depth: number; ifd0: boolean }[] = [{ offset: dv.getUint32(4, le), depth: 0, ifd0: true }];
  while (queue.length > 0 && seen.size < 64) {
    const { offset, depth, ifd0 } = queue.shift()!;
    if (offset < 8 || seen.has(offset) || depth > 4) continue;
    seen.add(offset);
    const countBytes = src.read(base + offset, 2);
    if (countBytes.length < 2) continue;
    const count = new DataView(countBytes.buffer, countBytes.byteOffset, 2).getUint16(0, le);
    if (count === 0 || count > 1000) continue;
    const ifd = src.read(base + offset + 2, count * 12 + 4);
    if (ifd.length < count * 12) continue;
    const v = new DataView(ifd.buffer, ifd.byteOffset, ifd.byteLength);
    const tags = new Map<number, { type: number; count: number; value: number; at: number }>();
    for (let e = 0; e < count; e++) {
      const at = e * 12;
      const tag = v.getUint16(at, le);
      const type = v.getUint16(at + 2, le);
      const n = v.getUint32(at + 4, le);
      const value = type === 3 && n === 1 ? v.getUint16(at + 8, le) : v.getUint32(at + 8, le);
      tags.set(tag, { type, count: n, value, at });
    }
    const num = (tag: number): number | undefined => tags.get(tag)?.value;
    if (ifd0 && num(0x0112) !== undefined) orientation = num(0x0112)!;
    // JPEGInterchangeFormat / Length (thumbnails and previews in IFD1, NEF/ARW/PEF sub-IFDs).
    const jpegOffset = num(0x0201);
    const jpegLength = num(0x0202);
    if (jpegOffset !== undefined && jpegLength !== undefined && jpegLength > 0) out.push({ offset: base + jpegOffset, length: jpegLength });
    // One JPEG-compressed strip (CR2's IFD0 preview, DNG preview sub-IFDs; lossless raw data is filtered by jpegFrame).
    const compression = num(0x0103);
    const strips = tags.get(0x0111);
    const stripBytes = tags.get(0x0117);
    if ((compression === 6 || compression === 7) && strips && stripBytes && strips.count === 1 && stripBytes.count === 1) {
      out.push({ offset: base + strips.value, length: stripBytes.value });
    }
    // Panasonic RW2: JpgFromRaw (tag 0x2E, an embedded JPEG as "undefined" bytes).
    const rw2 = tags.get(0x002e);
    if (rw2 && rw2.type === 7 && rw2.count > 4) out.push({ offset: base + rw2.value, length: rw2.count });
    // Follow sub-IFDs and the EXIF IFD.
    const sub = tags.get(0x014a);
    if (sub) {
      if (sub.count === 1) queue.push({ offset: sub.value, depth: depth + 1, ifd0: false });
      else {
        const list = src.read(base + sub.value, Math.min(sub.count, 16) * 4);
        const lv = new DataView(list.buffer, list.byteOffset, list.byteLength);
        for (let k = 0; k + 4 <= list.length; k += 4) queue.push({ offset: lv.getUint32(k, le), depth: depth + 1, ifd0: false });
      }
    }
    const exif = num(0x8769);
    if (exif !== undefined) queue.push({ offset: exif, depth: depth + 1, ifd0: false });
    if (ifd.length >= count * 12 + 4) {
      const next = v.getUint32(count * 12, le);
      if (next !== 0) queue.push({ offset: next, depth, ifd0: false });
    }
  }
  return orientation >= 1 && orientation <= 8 ? orientation : 1;
}

/** Finds an ASCII box type in the first `within` bytes; the offset of its size field, or -1. */
function findBox(src: Source, type: string, within: number): { at: number; size: number } | undefined {
  const head = src.read(0, Math.min(within, src.size));
  const t0 = type.charCodeAt(0);
  for (let i = 4; i + 4 <= head.length; i++) {
    if (head[i] === t0 && ascii(head, i, 4) === type) {
      const size = ((head[i - 4]! << 24) | (head[i - 3]! << 16) | (head[i - 2]! << 8) | head[i - 1]!) >>> 0;
      return { at: i - 4, size };
    }
  }
  return undefined;
}

function candidatesOf(src: Source): { candidates: Candidate[]; orientation: number } {
  const head = src.read(0, 96);
  const candidates: Candidate[] = [];
  // Fujifilm RAF: big-endian JPEG offset and length at 84 and 88; the JPEG carries its own EXIF orientation.
  if (head.length >= 92 && ascii(head, 0, 15) === 'FUJIFILMCCD-RAW') {
    const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
    candidates.push({ offset: dv.getUint32(84), length: dv.getUint32(88) });
    return { candidates, orientation: 0 };
  }
  // Canon CR3 (ISO base media): the PRVW box holds a JPEG; CMT1 holds TIFF IFD0 (orientation).
  if (head.length >= 12 && ascii(head, 4, 4) === 'ftyp' && ascii(head, 8, 4) === 'crx ') {
    let orientation = 1;
    const cmt1 = findBox(src, 'CMT1', 1 << 20);
    if (cmt1) orientation = walkTiff(src, cmt1.at + 8, []);
    const prvw = findBox(src, 'PRVW', 4 << 20);
    if (prvw) {
      const box = src.read(prvw.at, Math.min(prvw.size, 64));
      for (let i = 8; i + 2 < box.length; i++) {
        if (box[i] === 0xff && box[i + 1] === 0xd8) {
          candidates.push({ offset: prvw.at + i, length: prvw.size - i });
          break;
        }
      }
    }
    return { candidates, orientation };
  }
  // TIFF-based RAWs; Olympus ORF ("IIRO"/"MMOR") and Panasonic RW2 ("IIU") use other magic numbers.
  if (head.length >= 8 && ((head[0] === 0x49 && head[1] === 0x49) || (head[0] === 0x4d && head[1] === 0x4d))) {
    return { candidates, orientation: walkTiff(src, 0, candidates) };
  }
  return { candidates, orientation: 1 };
}

/**
 * The largest embedded JPEG preview of a RAW file (path or bytes), or undefined when it has none
 * that sharp can decode. `orientation` is the RAW's (0 when the preview's own EXIF applies).
 * File system errors propagate.
 */
export function findRawPreview(input: string | Uint8Array): RawPreview | undefined {
  const fd = typeof input === 'string' ? openRegularFileSync(input) : undefined;
  try {
    const src = fd === undefined ? bufferSource(input as Uint8Array) : fdSource(fd);
    const { candidates, orientation } = candidatesOf(src);
    let best: (Candidate & { width: number; height: number }) | undefined;
    for (const c of candidates) {
      if (c.offset <= 0 || c.length < 100 || c.offset + c.length > src.size) continue;
      const frame = jpegFrame(src.read(c.offset, Math.min(c.length, 256 * 1024)));
      if (!frame) continue;
      if (!best || frame.width * frame.height > best.width * best.height) best = { ...c, ...frame };
    }
    if (!best) return undefined;
    return { jpeg: src.read(best.offset, best.length), width: best.width, height: best.height, orientation };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Applies an EXIF orientation (1..8) to packed RGB; returns the new pixels and size. */
export function orientRgb(rgb: Uint8Array, width: number, height: number, orientation: number): { rgb: Uint8Array; width: number; height: number } {
  if (orientation <= 1 || orientation > 8) return { rgb, width, height };
  const swap = orientation >= 5;
  const ow = swap ? height : width;
  const oh = swap ? width : height;
  const out = new Uint8Array(rgb.length);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      // Source pixel for output (x, y), per the EXIF definition of each orientation.
      let sx: number;
      let sy: number;
      switch (orientation) {
        case 2: sx = width - 1 - x; sy = y; break;
        case 3: sx = width - 1 - x; sy = height - 1 - y; break;
        case 4: sx = x; sy = height - 1 - y; break;
        case 5: sx = y; sy = x; break;
        case 6: sx = y; sy = height - 1 - x; break;
        case 7: sx = width - 1 - y; sy = height - 1 - x; break;
        default: sx = width - 1 - y; sy = x; break; // 8
      }
      const s = (sy * width + sx) * 3;
      const d = (y * ow + x) * 3;
      out[d] = rgb[s]!;
      out[d + 1] = rgb[s + 1]!;
      out[d + 2] = rgb[s + 2]!;
    }
  }
  return { rgb: out, width: ow, height: oh };
}
