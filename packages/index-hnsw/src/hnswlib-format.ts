import { BinaryFileReader } from './binary-reader.js';

/** hnswlib 0.8 `saveIndex` header: 6 × u64, i32, u32, 3 × u64, f64, u64. */
const HEADER_BYTES = 96;
/** Deleted flag: bit 0 of byte 2 of an element's level-0 link-count word. */
const DELETE_MARK = 0x01;
/** hnswlib caps graph levels far below this for any realistic M; a larger value is corruption. */
const MAX_LEVEL = 64;

/** What the file must match; `labelDeleted(label)` says whether the id map has that label free. */
export interface HnswlibExpectation {
  dimension: number;
  M: number;
  efConstruction: number;
  /** Labels allocated by the id map: the file must hold exactly this many elements. */
  labelCount: number;
  /** Largest capacity (max elements) the writer could have grown to. */
  maxCapacity: number;
  /** True when the id map holds no id for `label` (it must be marked deleted in the file). */
  labelFree(label: number): boolean;
}

/**
 * Walks an hnswlib-node 3.0 (hnswlib 0.8) index file and checks every field the native loader
 * and searches trust: header geometry, element count, labels (a permutation of the id map's),
 * deleted flags, link counts and every neighbour slot. hnswlib has no bounds checks on these,
 * so a file that passes cannot crash the process. Returns the stored capacity (max elements).
 * Throws an `Error` whose message says what is wrong; callers wrap it in `IndexCorruptError`.
 */
export async function validateHnswlibFile(file: string, expect: HnswlibExpectation): Promise<{ maxElements: number }> {
  const r = await BinaryFileReader.open(file);
  try {
    if (r.size < HEADER_BYTES) throw new Error(`graph file has ${r.size} bytes, less than the ${HEADER_BYTES}-byte header`);
    const h = await r.take(HEADER_BYTES);
    const u64 = (off: number): number => {
      const v = h.readBigUInt64LE(off);
      return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
    };
    const offsetLevel0 = u64(0);
    const maxElements = u64(8);
    const count = u64(16);
    const sizeDataPerElement = u64(24);
    const labelOffset = u64(32);
    const offsetData = u64(40);
    const maxLevel = h.readInt32LE(48);
    const enterPoint = h.readUInt32LE(52);
    const maxM = u64(56);
    const maxM0 = u64(64);
    const M = u64(72);
    const efConstruction = u64(88);

    const linksLevel0 = maxM0 * 4 + 4;
    const dataSize = expect.dimension * 4;
    const linksPerLevel = maxM * 4 + 4;
    const fail = (what: string): never => {
      throw new Error(`graph file: ${what}`);
    };
    if (offsetLevel0 !== 0) fail(`level-0 offset is ${offsetLevel0}, expected 0`);
    if (M !== expect.M || maxM !== M || maxM0 !== 2 * M) fail(`M=${M}/${maxM}/${maxM0} does not match the manifest's M=${expect.M}`);
    if (efConstruction !== Math.max(expect.efConstruction, expect.M)) fail(`efConstruction ${efConstruction} does not match the manifest`);
    if (offsetData !== linksLevel0 || labelOffset !== linksLevel0 + dataSize || sizeDataPerElement !== linksLevel0 + dataSize + 8) {
      fail(`element layout (${sizeDataPerElement} bytes) does not match dimension ${expect.dimension}`);
    }
    if (count !== expect.labelCount) fail(`holds ${count} elements, the id map ${expect.labelCount}`);
    if (maxElements < count || maxElements > expect.maxCapacity) fail(`capacity ${maxElements} is invalid for ${count} elements`);
    if (count === 0) {
      if (maxLevel !== -1 || enterPoint !== 0xffffffff) fail('empty index has an entry point');
    } else if (maxLevel < 0 || maxLevel > MAX_LEVEL || enterPoint >= count) {
      fail(`entry point ${enterPoint} / top level ${maxLevel} out of range`);
    }
    if (r.remaining < count * sizeDataPerElement + count * 4) fail(`truncated: ${r.size} bytes for ${count} elements`);

    // Level 0: per element [u16 count, u8 flags, u8][maxM0 × u32 neighbours][vector][u64 label].
    const seen = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      const e = await r.take(sizeDataPerElement);
      const n = e.readUInt16LE(0);
      const flags = e[2]!;
      if (n > maxM0) fail(`element ${i} has ${n} level-0 links, more than ${maxM0}`);
      for (let j = 0; j < n; j++) if (e.readUInt32LE(4 + 4 * j) >= count) fail(`element ${i} links to a missing element`);
      const labelBig = e.readBigUInt64LE(labelOffset);
      if (labelBig >= BigInt(count)) fail(`element ${i} has label ${labelBig}, beyond the id map`);
      const label = Number(labelBig);
      if (seen[label]) fail(`label ${label} appears twice`);
      seen[label] = 1;
      const deleted = (flags & DELETE_MARK) !== 0;
      if (deleted !== expect.labelFree(label)) fail(`label ${label} is ${deleted ? '' : 'not '}deleted in the graph but the id map disagrees`);
    }
    // Upper levels: per element u32 byte length, then level × [u32 count][maxM × u32].
    let topSeen = 0;
    for (let i = 0; i < count; i++) {
      const size = (await r.take(4)).readUInt32LE(0);
      if (size % linksPerLevel !== 0) fail(`element ${i} has an upper-level block of ${size} bytes`);
      const levels = size / linksPerLevel;
      if (levels > maxLevel) fail(`element ${i} has ${levels} levels above the top level ${maxLevel}`);
      if (i === enterPoint && levels !== maxLevel) fail('the entry point is not on the top level');
      topSeen = Math.max(topSeen, levels);
      for (let l = 0; l < levels; l++) {
        const block = await r.take(linksPerLevel);
        const n = block.readUInt16LE(0);
        if (n > maxM) fail(`element ${i} has ${n} links on level ${l + 1}`);
        for (let j = 0; j < n; j++) if (block.readUInt32LE(4 + 4 * j) >= count) fail(`element ${i} links to a missing element`);
      }
    }
    if (count > 0 && topSeen !== maxLevel) fail(`no element reaches the top level ${maxLevel}`);
    if (r.remaining !== 0) fail(`${r.remaining} unexpected trailing bytes`);
    return { maxElements };
  } catch (err) {
    if (err instanceof RangeError) throw new Error(`graph file is truncated: ${err.message}`, { cause: err });
    throw err;
  } finally {
    await r.close();
  }
}
