import { MAX_ID } from '@pixsearch/core';
import { BinaryFileReader } from './binary-reader.js';

/** Scalar kinds this package stores, with USearch's on-disk codes and bytes per component. */
export const USEARCH_SCALARS = {
  f32: { code: 11, bytes: 4 },
  f16: { code: 12, bytes: 2 },
  i8: { code: 23, bytes: 1 },
} as const;
export type UsearchScalar = keyof typeof USEARCH_SCALARS;

/** USearch metric codes (`metric_kind_t`). */
export const USEARCH_METRIC_CODES = { cos: 0x63, ip: 0x69, l2sq: 0x65 } as const;
export type UsearchMetric = keyof typeof USEARCH_METRIC_CODES;

const HEAD_BYTES = 64; // index_dense_head_buffer_t
const GRAPH_HEADER_BYTES = 40; // index_serialized_header_t: 5 × u64
const KEY_U64 = 14;
const SLOT_U32 = 15;
const FREE_KEY = 0xffffffffffffffffn;
const MAX_LEVEL = 64;

export interface UsearchExpectation {
  dimension: number;
  metric: UsearchMetric;
  scalar: UsearchScalar;
  connectivity: number;
  /** Live vectors (the manifest's count). */
  count: number;
}

/**
 * Walks a USearch 2.x `index_dense` file — [u32 rows][u32 bytes per row][vectors][64-byte head]
 * [graph header][i16 level per node][nodes] — and checks what its loader and searches trust:
 * types, sizes, live/deleted counts, unique keys ≤ 2^53−1, node levels, neighbour counts and
 * every neighbour slot. Throws an `Error` naming the problem; callers wrap it in `IndexCorruptError`.
 */
export async function validateUsearchFile(file: string, expect: UsearchExpectation): Promise<void> {
  const r = await BinaryFileReader.open(file);
  const fail = (what: string): never => {
    throw new Error(`graph file: ${what}`);
  };
  try {
    const dims = await r.take(8);
    const rows = dims.readUInt32LE(0);
    const cols = dims.readUInt32LE(4);
    const rowBytes = expect.dimension * USEARCH_SCALARS[expect.scalar].bytes;
    if (cols !== rowBytes) fail(`rows of ${cols} bytes, expected ${rowBytes}`);
    if (r.remaining < rows * cols + HEAD_BYTES + GRAPH_HEADER_BYTES) fail(`truncated: ${r.size} bytes for ${rows} vectors`);
    await r.skip(rows * cols);

    const head = await r.take(HEAD_BYTES);
    if (head.toString('latin1', 0, 7) !== 'usearch') fail('no "usearch" magic');
    if (head.readUInt16LE(7) !== 2) fail(`format major version ${head.readUInt16LE(7)}, expected 2`);
    if (head[13] !== USEARCH_METRIC_CODES[expect.metric]) fail(`metric code ${head[13]} does not match "${expect.metric}"`);
    if (head[14] !== USEARCH_SCALARS[expect.scalar].code) fail(`scalar code ${head[14]} does not match "${expect.scalar}"`);
    if (head[15] !== KEY_U64 || head[16] !== SLOT_U32) fail('key or slot type is not u64/u32');
    const present = head.readBigUInt64LE(17);
    const deleted = head.readBigUInt64LE(25);
    if (present !== BigInt(expect.count) || present + deleted !== BigInt(rows)) {
      fail(`counts ${present} live + ${deleted} deleted do not match ${expect.count} live of ${rows}`);
    }
    if (head.readBigUInt64LE(33) !== BigInt(expect.dimension)) fail(`dimension ${head.readBigUInt64LE(33)}, expected ${expect.dimension}`);
    if (head[41] !== 0) fail('multi-key index (pixsearch ids are unique)');

    const g = await r.take(GRAPH_HEADER_BYTES);
    const size = g.readBigUInt64LE(0);
    const connectivity = g.readBigUInt64LE(8);
    const base = g.readBigUInt64LE(16);
    const maxLevelBig = g.readBigUInt64LE(24);
    const entry = g.readBigUInt64LE(32);
    if (size !== BigInt(rows)) fail(`graph holds ${size} nodes for ${rows} vectors`);
    if (rows === 0) {
      if (r.remaining !== 0) fail(`${r.remaining} unexpected trailing bytes`);
      return;
    }
    if (connectivity !== BigInt(expect.connectivity) || base !== 2n * connectivity) {
      fail(`connectivity ${connectivity}/${base} does not match the manifest's ${expect.connectivity}`);
    }
    if (maxLevelBig > BigInt(MAX_LEVEL) || entry >= size) fail(`entry ${entry} / top level ${maxLevelBig} out of range`);
    const maxLevel = Number(maxLevelBig);
    const conn = expect.connectivity;
    const baseBytes = 4 + 4 * 2 * conn;
    const levelBytes = 4 + 4 * conn;

    const levels = new Int16Array(rows);
    let expectedNodeBytes = 0;
    let top = 0;
    for (let i = 0; i < rows; i++) {
      const level = (await r.take(2)).readInt16LE(0);
      if (level < 0 || level > maxLevel) fail(`node ${i} has level ${level}`);
      levels[i] = level;
      top = Math.max(top, level);
      expectedNodeBytes += 10 + baseBytes + level * levelBytes;
    }
    if (top !== maxLevel || levels[Number(entry)] !== maxLevel) fail('the entry node is not on the top level');
    if (r.remaining !== expectedNodeBytes) fail(`nodes take ${r.remaining} bytes, expected ${expectedNodeBytes}`);

    const keys = new Set<number>();
    let live = 0;
    for (let i = 0; i < rows; i++) {
      const level = levels[i]!;
      const node = await r.take(10 + baseBytes + level * levelBytes);
      const key = node.readBigUInt64LE(0);
      if (key !== FREE_KEY) {
        if (key > BigInt(MAX_ID)) fail(`node ${i} has key ${key}, beyond 2^53-1`);
        const k = Number(key);
        if (keys.has(k)) fail(`key ${k} appears twice`);
        keys.add(k);
        live++;
      }
      if (node.readInt16LE(8) !== level) fail(`node ${i} level disagrees with the level table`);
      let off = 10;
      for (let l = 0; l <= level; l++) {
        const cap = l === 0 ? 2 * conn : conn;
        const n = node.readUInt32LE(off);
        if (n > cap) fail(`node ${i} has ${n} links on level ${l}`);
        for (let j = 0; j < n; j++) if (node.readUInt32LE(off + 4 + 4 * j) >= rows) fail(`node ${i} links to a missing node`);
        off += l === 0 ? baseBytes : levelBytes;
      }
    }
    if (live !== expect.count) fail(`${live} live keys, expected ${expect.count}`);
  } catch (err) {
    if (err instanceof RangeError) throw new Error(`graph file is truncated: ${err.message}`, { cause: err });
    throw err;
  } finally {
    await r.close();
  }
}
