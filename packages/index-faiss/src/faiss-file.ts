// What pixsearch knows about FAISS's on-disk format (faiss/impl/index_write.cpp, 1.7.x), for the
// two index types it writes. Used to validate a file BEFORE `faiss.read` sees it (a size field
// that asks for terabytes makes FAISS throw std::bad_alloc, which faiss-node does not catch and
// which aborts Node), and to rewrite files without removed rows (compaction) — FAISS's own
// `removeIds` renumbers flat indexes and scans its id array once per stored vector.
//
// Layout (little-endian):
//   index header (after the 4-byte tag): d int32 | ntotal int64 | 2 × int64 dummy | is_trained u8 | metric int32  (33 bytes)
//   IxFI / IxF2 (flat IP / L2): tag | header | uint64 float count (= ntotal·d) | floats
//   IwFl (IVF,Flat): tag | header | nlist u64 @37 | nprobe u64 @45 | quantizer (a flat index) |
//     direct map (u8 type = 0, u64 size = 0) | "ilar" | nlist u64 | code_size u64 |
//     "full" + u64 count + count × u64 list sizes, or "sprs" + u64 count + (list, size) u64 pairs |
//     for each non-empty list: size·code_size code bytes, then size × int64 ids.
import { open, type FileHandle } from 'node:fs/promises';
import { IndexCorruptError, InvalidArgumentError } from '@pixsearch/core';

const HEADER_END = 37; // tag + index header
const FLAT_DATA = HEADER_END + 8;
/** Byte offset of `nlist` in an IVF file. */
export const IVF_NLIST_OFFSET = 37;
/** Byte offset of `nprobe` (uint64 LE) in an IVF file. */
export const IVF_NPROBE_OFFSET = 45;
const IVF_QUANTIZER = 53;
const NTOTAL_OFFSET = 8;
const IO_BLOCK = 4 << 20;

export type FaissMetric = 'ip' | 'l2';

/** A validated flat index file. */
export interface FlatFileInfo {
  kind: 'flat';
  d: number;
  ntotal: number;
  metric: FaissMetric;
  bytes: number;
}

/** A validated IVF,Flat index file. */
export interface IvfFileInfo {
  kind: 'ivf';
  d: number;
  ntotal: number;
  metric: FaissMetric;
  nlist: number;
  nprobe: number;
  codeSize: number;
  /** Vectors in each inverted list. */
  listSizes: Float64Array;
  /** Offset of the "ilar" tag (everything before it is header, quantizer and direct map). */
  invlistsOffset: number;
  /** Offset of the first list's codes. */
  dataOffset: number;
  bytes: number;
}

/** Size in bytes of a flat index file holding `ntotal` vectors. */
export function flatFileBytes(d: number, ntotal: number): number {
  return FLAT_DATA + ntotal * d * 4;
}

/** Upper bound on the size of an IVF,Flat file (sizes written in the "full" form). */
export function ivfFileBytes(d: number, nlist: number, ntotal: number): number {
  return IVF_QUANTIZER + flatFileBytes(d, nlist) + 9 + 32 + 8 * nlist + ntotal * (d * 4 + 8);
}

class Reader {
  constructor(
    private readonly fh: FileHandle,
    readonly file: string,
    readonly size: number,
  ) {}

  async bytes(offset: number, length: number): Promise<Buffer> {
    if (offset + length > this.size) this.fail(`truncated: needs ${offset + length} bytes, has ${this.size}`);
    const buf = Buffer.alloc(length);
    const { bytesRead } = await this.fh.read(buf, 0, length, offset);
    if (bytesRead !== length) this.fail(`short read at ${offset}`);
    return buf;
  }

  fail(reason: string): never {
    throw new IndexCorruptError(this.file, `FAISS file: ${reason}`);
  }
}

/** Reads a uint64/int64 that must be a safe non-negative integer. */
function u64(buf: Buffer, offset: number, r: Reader, what: string): number {
  const v = buf.readBigUInt64LE(offset);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) r.fail(`${what} ${v} out of range`);
  return Number(v);
}

interface Header {
  tag: string;
  d: number;
  ntotal: number;
  trained: boolean;
  metric: FaissMetric;
}

async function readHeader(r: Reader, at: number): Promise<Header> {
  const b = await r.bytes(at, HEADER_END);
  const tag = b.toString('latin1', 0, 4);
  const d = b.readInt32LE(4);
  const ntotal = u64(b, 8, r, 'ntotal');
  const trained = b.readUInt8(32);
  const metric = b.readInt32LE(33);
  if (d < 1) r.fail(`dimension ${d}`);
  if (trained > 1) r.fail(`is_trained byte ${trained}`);
  if (metric !== 0 && metric !== 1) r.fail(`unsupported metric type ${metric}`);
  return { tag, d, ntotal, trained: trained === 1, metric: metric === 0 ? 'ip' : 'l2' };
}

/** Validates a flat index stored at `at` (the whole file, or an IVF's quantizer); returns its end. */
async function checkFlat(r: Reader, at: number): Promise<{ header: Header; end: number }> {
  const header = await readHeader(r, at);
  const expectTag = header.metric === 'ip' ? 'IxFI' : 'IxF2';
  if (header.tag !== expectTag) r.fail(`tag "${header.tag}" where a flat ${header.metric} index (${expectTag}) was expected`);
  const count = u64(await r.bytes(at + HEADER_END, 8), 0, r, 'float count');
  if (count !== header.ntotal * header.d) r.fail(`flat index stores ${count} floats for ${header.ntotal} × ${header.d}`);
  const end = at + flatFileBytes(header.d, header.ntotal);
  if (end > r.size) r.fail(`truncated flat data: needs ${end} bytes, has ${r.size}`);
  return { header, end };
}

async function withReader<T>(file: string, fn: (r: Reader) => Promise<T>): Promise<T> {
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (cause) {
    throw new IndexCorruptError(file, 'cannot open FAISS file', { cause });
  }
  try {
    const { size } = await fh.stat();
    return await fn(new Reader(fh, file, size));
  } finally {
    await fh.close();
  }
}

/** Validates a flat index file completely (structure and exact size). Throws `IndexCorruptError`. */
export async function inspectFlatFile(file: string): Promise<FlatFileInfo> {
  return withReader(file, async (r) => {
    const { header, end } = await checkFlat(r, 0);
    if (!header.trained) r.fail('flat index marked untrained');
    if (end !== r.size) r.fail(`${r.size - end} trailing bytes`);
    return { kind: 'flat', d: header.d, ntotal: header.ntotal, metric: header.metric, bytes: r.size };
  });
}

/** Validates an IVF,Flat file: header, quantizer, direct map, every list size and the exact size. */
export async function inspectIvfFile(file: string): Promise<IvfFileInfo> {
  return withReader(file, async (r) => {
    const header = await readHeader(r, 0);
    if (header.tag !== 'IwFl') r.fail(`tag "${header.tag}", expected IwFl (IVF,Flat)`);
    if (!header.trained) r.fail('IVF index marked untrained');
    const p = await r.bytes(IVF_NLIST_OFFSET, 16);
    const nlist = u64(p, 0, r, 'nlist');
    const nprobe = u64(p, 8, r, 'nprobe');
    if (nlist < 1) r.fail('nlist 0');
    if (nprobe < 1) r.fail('nprobe 0');
    const q = await checkFlat(r, IVF_QUANTIZER);
    if (q.header.d !== header.d || q.header.ntotal !== nlist || q.header.metric !== header.metric) {
      r.fail(`quantizer (${q.header.ntotal} × ${q.header.d}, ${q.header.metric}) does not match the IVF header`);
    }
    const dm = await r.bytes(q.end, 9);
    if (dm.readUInt8(0) !== 0 || u64(dm, 1, r, 'direct map size') !== 0) r.fail('unexpected direct map');
    const invlistsOffset = q.end + 9;
    const il = await r.bytes(invlistsOffset, 32);
    if (il.toString('latin1', 0, 4) !== 'ilar') r.fail(`inverted lists tag "${il.toString('latin1', 0, 4)}"`);
    if (u64(il, 4, r, 'inverted lists nlist') !== nlist) r.fail('inverted lists disagree on nlist');
    const codeSize = u64(il, 12, r, 'code size');
    if (codeSize !== header.d * 4) r.fail(`code size ${codeSize} for dimension ${header.d}`);
    const listType = il.toString('latin1', 20, 24);
    const count = u64(il, 24, r, 'list size count');
    if (invlistsOffset + 32 + 8 * count > r.size) r.fail('truncated list sizes');
    const raw = await r.bytes(invlistsOffset + 32, 8 * count);
    const listSizes = new Float64Array(nlist);
    if (listType === 'full') {
      if (count !== nlist) r.fail(`${count} list sizes for ${nlist} lists`);
      for (let i = 0; i < nlist; i++) listSizes[i] = u64(raw, 8 * i, r, 'list size');
    } else if (listType === 'sprs') {
      if (count % 2 !== 0) r.fail('odd sparse list size count');
      for (let j = 0; j < count; j += 2) {
        const list = u64(raw, 8 * j, r, 'list number');
        if (list >= nlist) r.fail(`list number ${list} ≥ nlist ${nlist}`);
        listSizes[list] = u64(raw, 8 * j + 8, r, 'list size');
      }
    } else {
      r.fail(`inverted list type "${listType}"`);
    }
    let total = 0;
    for (let i = 0; i < nlist; i++) total += listSizes[i]!;
    if (total !== header.ntotal) r.fail(`lists hold ${total} vectors, header says ${header.ntotal}`);
    const dataOffset = invlistsOffset + 32 + 8 * count;
    const expected = dataOffset + total * (codeSize + 8);
    if (expected !== r.size) r.fail(`size ${r.size} bytes, structure needs ${expected}`);
    return { kind: 'ivf', d: header.d, ntotal: total, metric: header.metric, nlist, nprobe, codeSize, listSizes, invlistsOffset, dataOffset, bytes: r.size };
  });
}

/**
 * Sets the stored `nprobe` of an IVF file in place, after checking its tag and `nlist`: faiss-node
 * has no nprobe setter, so the adapter (through `withNprobe`) and the benchmark's bare FAISS
 * driver change nprobe this way. Throws `InvalidArgumentError` for an nprobe outside 1..nlist,
 * `IndexCorruptError` when the file is not an IVF,Flat index with that nlist.
 */
export async function patchIvfNprobe(file: string, nprobe: number, nlist: number): Promise<void> {
  if (!Number.isInteger(nprobe) || nprobe < 1 || nprobe > nlist) throw new InvalidArgumentError(`nprobe must be in [1, ${nlist}], got ${nprobe}`);
  const fh = await open(file, 'r+');
  try {
    const head = Buffer.alloc(IVF_NPROBE_OFFSET + 8);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    if (bytesRead !== head.length || head.toString('latin1', 0, 4) !== 'IwFl' || head.readBigUInt64LE(IVF_NLIST_OFFSET) !== BigInt(nlist)) {
      throw new IndexCorruptError(file, `not an IVF,Flat file with nlist ${nlist}; cannot set nprobe`);
    }
    const v = Buffer.alloc(8);
    v.writeBigUInt64LE(BigInt(nprobe));
    await fh.write(v, 0, 8, IVF_NPROBE_OFFSET);
  } finally {
    await fh.close();
  }
}

/** Buffered sequential writer. */
class Writer {
  private buf = Buffer.allocUnsafe(IO_BLOCK);
  private used = 0;
  private pos = 0;

  constructor(private readonly fh: FileHandle) {}

  async put(data: Buffer): Promise<void> {
    if (this.used + data.length > this.buf.length) await this.flush();
    if (data.length > this.buf.length) {
      await this.fh.write(data, 0, data.length, this.pos);
      this.pos += data.length;
      return;
    }
    data.copy(this.buf, this.used);
    this.used += data.length;
  }

  async flush(): Promise<void> {
    if (this.used === 0) return;
    await this.fh.write(this.buf, 0, this.used, this.pos);
    this.pos += this.used;
    this.used = 0;
  }
}

async function readAt(fh: FileHandle, offset: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
    if (bytesRead === 0) throw new Error(`unexpected end of file at ${offset + got}`);
    got += bytesRead;
  }
  return buf;
}

/**
 * Copies the flat index file `src` to `dst` keeping only rows whose `remap` entry is ≥ 0
 * (positions keep their order, so remap must be increasing over kept rows).
 */
export async function compactFlatFile(src: string, dst: string, info: FlatFileInfo, remap: Float64Array, kept: number): Promise<void> {
  const rowBytes = info.d * 4;
  const inp = await open(src, 'r');
  const out = await open(dst, 'w');
  try {
    const w = new Writer(out);
    const head = await readAt(inp, 0, FLAT_DATA);
    head.writeBigUInt64LE(BigInt(kept), NTOTAL_OFFSET);
    head.writeBigUInt64LE(BigInt(kept * info.d), HEADER_END);
    await w.put(head);
    const rowsPerBlock = Math.max(1, Math.floor(IO_BLOCK / rowBytes));
    for (let r0 = 0; r0 < info.ntotal; r0 += rowsPerBlock) {
      const r1 = Math.min(info.ntotal, r0 + rowsPerBlock);
      const block = await readAt(inp, FLAT_DATA + r0 * rowBytes, (r1 - r0) * rowBytes);
      for (let r = r0; r < r1; r++) {
        if (remap[r]! >= 0) await w.put(block.subarray((r - r0) * rowBytes, (r - r0 + 1) * rowBytes));
      }
    }
    await w.flush();
  } finally {
    await inp.close();
    await out.close();
  }
}

/**
 * Copies the IVF,Flat file `src` to `dst` dropping vectors whose label maps to −1 in `remap`
 * and relabelling the rest (labels are positions: FAISS assigned ntotal, ntotal+1, … on add).
 * The quantizer is kept, so no retraining is needed.
 */
export async function compactIvfFile(src: string, dst: string, info: IvfFileInfo, remap: Float64Array, kept: number): Promise<void> {
  const { nlist, codeSize } = info;
  const inp = await open(src, 'r');
  const out = await open(dst, 'w');
  try {
    const starts = new Float64Array(nlist);
    for (let i = 0, off = info.dataOffset; i < nlist; i++) {
      starts[i] = off;
      off += info.listSizes[i]! * (codeSize + 8);
    }
    const label = (ids: Buffer, j: number): number => {
      const l = Number(ids.readBigInt64LE(8 * j));
      if (!(l >= 0 && l < remap.length)) throw new Error(`label ${l} outside 0..${remap.length - 1}`);
      return l;
    };
    // Pass 1: new list sizes.
    const newSizes = new Float64Array(nlist);
    for (let i = 0; i < nlist; i++) {
      const n = info.listSizes[i]!;
      if (n === 0) continue;
      const ids = await readAt(inp, starts[i]! + n * codeSize, n * 8);
      let live = 0;
      for (let j = 0; j < n; j++) if (remap[label(ids, j)]! >= 0) live++;
      newSizes[i] = live;
    }
    // Header through direct map, with the new ntotal.
    const w = new Writer(out);
    const head = await readAt(inp, 0, info.invlistsOffset);
    head.writeBigUInt64LE(BigInt(kept), NTOTAL_OFFSET);
    await w.put(head);
    const il = Buffer.alloc(32 + 8 * nlist);
    il.write('ilar', 0, 'latin1');
    il.writeBigUInt64LE(BigInt(nlist), 4);
    il.writeBigUInt64LE(BigInt(codeSize), 12);
    il.write('full', 20, 'latin1');
    il.writeBigUInt64LE(BigInt(nlist), 24);
    for (let i = 0; i < nlist; i++) il.writeBigUInt64LE(BigInt(newSizes[i]!), 32 + 8 * i);
    await w.put(il);
    // Pass 2: surviving codes, then their new labels, list by list.
    const rowsPerBlock = Math.max(1, Math.floor(IO_BLOCK / codeSize));
    for (let i = 0; i < nlist; i++) {
      const n = info.listSizes[i]!;
      if (newSizes[i] === 0) continue;
      const ids = await readAt(inp, starts[i]! + n * codeSize, n * 8);
      const newIds = Buffer.alloc(8 * newSizes[i]!);
      let o = 0;
      for (let j0 = 0; j0 < n; j0 += rowsPerBlock) {
        const j1 = Math.min(n, j0 + rowsPerBlock);
        const codes = await readAt(inp, starts[i]! + j0 * codeSize, (j1 - j0) * codeSize);
        for (let j = j0; j < j1; j++) {
          const to = remap[label(ids, j)]!;
          if (to < 0) continue;
          await w.put(codes.subarray((j - j0) * codeSize, (j - j0 + 1) * codeSize));
          newIds.writeBigInt64LE(BigInt(to), 8 * o++);
        }
      }
      await w.put(newIds);
    }
    await w.flush();
  } finally {
    await inp.close();
    await out.close();
  }
}
