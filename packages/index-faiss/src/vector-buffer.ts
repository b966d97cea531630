// The vectors an IVF index holds before it is trained: a growable row-major Float32Array whose
// rows line up with the id map's positions (tombstoned rows included until compaction).
import { IndexCorruptError } from '@pixsearch/core';

const MAGIC = 'PXVBUF01';
const HEADER_BYTES = 24;

export class VectorBuffer {
  private data: Float32Array;
  private count = 0;

  constructor(
    readonly dimension: number,
    capacityRows = 256,
  ) {
    this.data = new Float32Array(Math.max(1, capacityRows) * dimension);
  }

  /** Rows stored (live and tombstoned). */
  get rows(): number {
    return this.count;
  }

  /** The stored rows, `rows × dimension` floats (a view; valid until the next append or compaction). */
  get vectors(): Float32Array {
    return this.data.subarray(0, this.count * this.dimension);
  }

  /** Appends rows `rows[from, to)` of `src` (or rows `from..to` when `rows` is undefined). */
  append(src: Float32Array, rows: ArrayLike<number> | undefined, from: number, to: number): void {
    const d = this.dimension;
    this.reserve(this.count + (to - from));
    if (!rows) {
      this.data.set(src.subarray(from * d, to * d), this.count * d);
      this.count += to - from;
      return;
    }
    for (let r = from; r < to; r++) {
      const row = rows[r]!;
      this.data.set(src.subarray(row * d, (row + 1) * d), this.count * d);
      this.count++;
    }
  }

  /** Keeps rows whose `remap` entry is ≥ 0, in order (see `IdMap.remap`). */
  compact(remap: Float64Array): void {
    const d = this.dimension;
    let next = 0;
    for (let r = 0; r < this.count; r++) {
      if (remap[r]! < 0) continue;
      if (r !== next) this.data.copyWithin(next * d, r * d, (r + 1) * d);
      next++;
    }
    this.count = next;
  }

  /** "PXVBUF01", uint32 d, uint32 0, uint64 rows, then rows × d float32 (host order, little-endian in practice). */
  serialize(): Buffer[] {
    const head = Buffer.alloc(HEADER_BYTES);
    head.write(MAGIC, 0, 'latin1');
    head.writeUInt32LE(this.dimension, 8);
    head.writeBigUInt64LE(BigInt(this.count), 16);
    const body = this.vectors;
    return [head, Buffer.from(body.buffer, body.byteOffset, body.byteLength)];
  }

  /** Parses `serialize()` output for vectors of `dimension`. Throws `IndexCorruptError`. */
  static deserialize(buf: Buffer, file: string, dimension: number): VectorBuffer {
    if (buf.length < HEADER_BYTES || buf.toString('latin1', 0, 8) !== MAGIC) throw new IndexCorruptError(file, 'vector buffer has no PXVBUF01 header');
    const d = buf.readUInt32LE(8);
    const n = buf.readBigUInt64LE(16);
    const rows = (buf.length - HEADER_BYTES) / (4 * dimension);
    if (d !== dimension || !Number.isInteger(rows) || n !== BigInt(rows)) {
      throw new IndexCorruptError(file, `vector buffer header says ${n} × ${d}, its ${buf.length} bytes do not match dimension ${dimension}`);
    }
    const vb = new VectorBuffer(dimension, rows);
    const body = new Float32Array(rows * dimension);
    new Uint8Array(body.buffer).set(buf.subarray(HEADER_BYTES));
    for (let i = 0; i < body.length; i++) {
      const v = body[i]!;
      if (!(v === v) || v === Infinity || v === -Infinity) throw new IndexCorruptError(file, `vector buffer holds ${v} at row ${Math.floor(i / dimension)}`);
    }
    vb.data.set(body);
    vb.count = rows;
    return vb;
  }

  private reserve(rows: number): void {
    const need = rows * this.dimension;
    if (need <= this.data.length) return;
    const next = new Float32Array(Math.max(need, Math.ceil(this.data.length * 1.5)));
    next.set(this.data.subarray(0, this.count * this.dimension));
    this.data = next;
  }
}
