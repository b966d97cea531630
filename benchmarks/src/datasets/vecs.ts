/**
 * The `.fvecs` / `.ivecs` / `.bvecs` formats of the TEXMEX corpus (SIFT1M, GIST1M, Deep1B…):
 * each row is a little-endian int32 `d` followed by `d` components (float32, int32 or uint8).
 * Readers stream the file in blocks, so memory stays at the size of the result.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { InvalidArgumentError } from '@pixsearch/core';

/** Rows read from a vecs file: `rows × dimension` values, row-major. */
export interface VecsData<T extends Float32Array | Int32Array | Uint8Array> {
  data: T;
  rows: number;
  dimension: number;
}

type Kind = 'f' | 'i' | 'b';
const WIDTH: Record<Kind, number> = { f: 4, i: 4, b: 1 };

function readVecs(file: string, kind: Kind, maxRows?: number): VecsData<Float32Array | Int32Array | Uint8Array> {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(4);
    if (size === 0) throw new InvalidArgumentError(`${file} is empty`);
    if (readSync(fd, head, 0, 4, 0) !== 4) throw new InvalidArgumentError(`${file} is truncated`);
    const d = head.readInt32LE(0);
    if (d < 1 || d > 1 << 20) throw new InvalidArgumentError(`${file}: first row declares dimension ${d}; not a ${kind}vecs file`);
    const rowBytes = 4 + d * WIDTH[kind];
    if (size % rowBytes !== 0) {
      throw new InvalidArgumentError(`${file}: ${size} bytes is not a whole number of ${rowBytes}-byte rows (dimension ${d}); truncated or not a ${kind}vecs file`);
    }
    const rows = Math.min(size / rowBytes, maxRows ?? Infinity);
    const data = kind === 'f' ? new Float32Array(rows * d) : kind === 'i' ? new Int32Array(rows * d) : new Uint8Array(rows * d);
    const out = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const blockRows = Math.max(1, Math.floor((8 << 20) / rowBytes));
    const block = Buffer.alloc(blockRows * rowBytes);
    for (let r = 0; r < rows; r += blockRows) {
      const n = Math.min(blockRows, rows - r);
      const want = n * rowBytes;
      let got = 0;
      while (got < want) {
        const k = readSync(fd, block, got, want - got, r * rowBytes + got);
        if (k === 0) throw new InvalidArgumentError(`${file} ended early at row ${r}`);
        got += k;
      }
      const payload = d * WIDTH[kind];
      for (let i = 0; i < n; i++) {
        const o = i * rowBytes;
        const di = block.readInt32LE(o);
        if (di !== d) throw new InvalidArgumentError(`${file}: row ${r + i} has dimension ${di}, expected ${d}`);
        out.set(block.subarray(o + 4, o + 4 + payload), (r + i) * payload);
      }
    }
    return { data, rows, dimension: d };
  } finally {
    closeSync(fd);
  }
}

/** Reads a `.fvecs` file (float32 rows). Throws `InvalidArgumentError` on a malformed file. */
export function readFvecs(file: string, maxRows?: number): VecsData<Float32Array> {
  return readVecs(file, 'f', maxRows) as VecsData<Float32Array>;
}

/** Reads an `.ivecs` file (int32 rows; ground-truth neighbour ids in TEXMEX sets). */
export function readIvecs(file: string, maxRows?: number): VecsData<Int32Array> {
  return readVecs(file, 'i', maxRows) as VecsData<Int32Array>;
}

/** Reads a `.bvecs` file (uint8 rows, e.g. SIFT1B). */
export function readBvecs(file: string, maxRows?: number): VecsData<Uint8Array> {
  return readVecs(file, 'b', maxRows) as VecsData<Uint8Array>;
}

function writeVecs(file: string, data: Float32Array | Int32Array | Uint8Array, dimension: number): void {
  if (!Number.isInteger(dimension) || dimension < 1 || data.length % dimension !== 0) {
    throw new InvalidArgumentError(`data of length ${data.length} is not a whole number of rows of dimension ${dimension}`);
  }
  const rows = data.length / dimension;
  const width = data.BYTES_PER_ELEMENT;
  const rowBytes = 4 + dimension * width;
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const blockRows = Math.max(1, Math.floor((8 << 20) / rowBytes));
  const block = Buffer.alloc(Math.min(rows, blockRows) * rowBytes);
  const fd = openSync(file, 'w');
  try {
    for (let r = 0; r < rows; r += blockRows) {
      const n = Math.min(blockRows, rows - r);
      for (let i = 0; i < n; i++) {
        block.writeInt32LE(dimension, i * rowBytes);
        block.set(bytes.subarray((r + i) * dimension * width, (r + i + 1) * dimension * width), i * rowBytes + 4);
      }
      writeSync(fd, block, 0, n * rowBytes);
    }
  } finally {
    closeSync(fd);
  }
}

/** Writes `data` (row-major, `dimension` wide) as `.fvecs`. */
export function writeFvecs(file: string, data: Float32Array, dimension: number): void {
  writeVecs(file, data, dimension);
}

/** Writes `data` (row-major, `dimension` wide) as `.ivecs`. */
export function writeIvecs(file: string, data: Int32Array, dimension: number): void {
  writeVecs(file, data, dimension);
}
