/**
 * The `PXIDMAP1` id-map file shared by adapters whose library numbers its vectors itself (FAISS
 * positions, hnswlib labels): little-endian, the 8-byte magic `PXIDMAP1`, a u64 slot count, then one
 * f64 per slot — the pixsearch id held there (0..2^53−1), or −1 for an empty slot.
 */
import { MAX_ID } from './vectors.js';

const MAGIC = 'PXIDMAP1';
/** Bytes before the first slot: magic (8) + slot count (u64). */
export const ID_MAP_HEADER_BYTES = 16;
/** The value of an empty slot (removed, or allocated and free). */
export const EMPTY_SLOT = -1;

/** Encodes `slots` ids (`EMPTY_SLOT` for empty ones) from `ids[0..slots)`. */
export function encodeIdMap(ids: ArrayLike<number>, slots = ids.length): Buffer {
  const buf = Buffer.allocUnsafe(ID_MAP_HEADER_BYTES + 8 * slots);
  buf.write(MAGIC, 0, 'latin1');
  buf.writeBigUInt64LE(BigInt(slots), 8);
  for (let s = 0; s < slots; s++) buf.writeDoubleLE(ids[s]!, ID_MAP_HEADER_BYTES + 8 * s);
  return buf;
}

/** A decoded id map: slot → id (`EMPTY_SLOT` when empty) and id → slot for the ids present. */
export interface DecodedIdMap {
  ids: Float64Array;
  slotOf: Map<number, number>;
}

/**
 * Decodes and checks an id map: the header, the byte length, at most `maxSlots` slots, and every
 * entry a valid id present once (or empty). Throws an `Error` whose message says what is wrong
 * (adapters wrap it in `IndexCorruptError` naming the file).
 */
export function decodeIdMap(bytes: Uint8Array, maxSlots = Number.MAX_SAFE_INTEGER): DecodedIdMap {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < ID_MAP_HEADER_BYTES || buf.toString('latin1', 0, 8) !== MAGIC) throw new Error('id map has no PXIDMAP1 header');
  const count = buf.readBigUInt64LE(8);
  if (count > BigInt(maxSlots) || BigInt(buf.length) !== BigInt(ID_MAP_HEADER_BYTES) + count * 8n) {
    throw new Error(`id map declares ${count} slots but has ${buf.length} bytes`);
  }
  const n = Number(count);
  const ids = new Float64Array(n);
  const slotOf = new Map<number, number>();
  for (let s = 0; s < n; s++) {
    const id = buf.readDoubleLE(ID_MAP_HEADER_BYTES + 8 * s);
    ids[s] = id;
    if (id === EMPTY_SLOT) continue;
    if (!Number.isSafeInteger(id) || id < 0 || id > MAX_ID) throw new Error(`id map entry ${s} (${id}) is not a valid id`);
    if (slotOf.has(id)) throw new Error(`id map holds id ${id} twice`);
    slotOf.set(id, s);
  }
  return { ids, slotOf };
}
