// External ids ↔ FAISS positions. FAISS numbers vectors 0..ntotal−1 in insertion order and has no
// custom ids in faiss-node, so the adapter owns this map and persists it next to the index.
// Removal leaves a tombstone (−1) at the position; `compact()` renumbers once the native side has
// dropped those rows.
import { decodeIdMap, EMPTY_SLOT, encodeIdMap, IndexCorruptError } from '@pixsearch/core';

/** Marks a removed position. Valid ids are ≥ 0. */
export const TOMBSTONE = EMPTY_SLOT;

/** Position → id (Float64Array, exact up to 2^53−1) plus id → position for live ids. */
export class IdMap {
  private ids: Float64Array;
  private used = 0;
  private readonly pos = new Map<number, number>();

  constructor(capacity = 1024) {
    this.ids = new Float64Array(Math.max(16, capacity));
  }

  /** Live ids. */
  get size(): number {
    return this.pos.size;
  }

  /** Positions in use, live or tombstoned (equals the native index's `ntotal`). */
  get positions(): number {
    return this.used;
  }

  /** Tombstoned positions awaiting compaction. */
  get tombstones(): number {
    return this.used - this.pos.size;
  }

  has(id: number): boolean {
    return this.pos.has(id);
  }

  /** Id at `position`, or `TOMBSTONE` (−1) for removed or out-of-range positions. */
  idAt(position: number): number {
    return position >= 0 && position < this.used ? this.ids[position]! : TOMBSTONE;
  }

  /**
   * Records that the native index appended `ids[from, to)` (in `rows` order when given) at the
   * next positions. An id already present is upserted: its old position becomes a tombstone.
   */
  append(ids: ArrayLike<number>, rows: ArrayLike<number> | undefined, from: number, to: number): void {
    this.reserve(this.used + (to - from));
    for (let r = from; r < to; r++) {
      const id = ids[rows ? rows[r]! : r]!;
      const old = this.pos.get(id);
      if (old !== undefined) this.ids[old] = TOMBSTONE;
      this.pos.set(id, this.used);
      this.ids[this.used++] = id;
    }
  }

  /** Tombstones `id`; false when it was not present. */
  remove(id: number): boolean {
    const p = this.pos.get(id);
    if (p === undefined) return false;
    this.pos.delete(id);
    this.ids[p] = TOMBSTONE;
    return true;
  }

  /**
   * Drops tombstones and renumbers live positions in order. Returns old position → new position
   * (−1 for dropped ones), which the caller applies to the native index first.
   */
  remap(): Float64Array {
    const map = new Float64Array(this.used);
    let next = 0;
    for (let p = 0; p < this.used; p++) map[p] = this.ids[p] === TOMBSTONE ? TOMBSTONE : next++;
    return map;
  }

  /** Applies a `remap()` result to this map. */
  compact(): void {
    let next = 0;
    for (let p = 0; p < this.used; p++) {
      const id = this.ids[p]!;
      if (id === TOMBSTONE) continue;
      this.ids[next] = id;
      this.pos.set(id, next++);
    }
    this.used = next;
    if (this.ids.length > 4 * Math.max(16, next)) this.ids = this.ids.slice(0, Math.max(16, next * 2));
  }

  /** Live positions in ascending order. */
  livePositions(): Float64Array {
    const out = new Float64Array(this.pos.size);
    let o = 0;
    for (let p = 0; p < this.used; p++) if (this.ids[p] !== TOMBSTONE) out[o++] = p;
    return out;
  }

  /** Binary form: core's `PXIDMAP1` file (see `encodeIdMap`), one slot per position (−1 = removed). */
  serialize(): Buffer {
    return encodeIdMap(this.ids, this.used);
  }

  /**
   * Parses `serialize()` output, checking it against the index it belongs to: `positions` must
   * equal the native ntotal and `live` the manifest count. Throws `IndexCorruptError` (`file` names it).
   */
  static deserialize(buf: Buffer, file: string, expected: { positions: number; live: number }): IdMap {
    let decoded: ReturnType<typeof decodeIdMap>;
    try {
      decoded = decodeIdMap(buf);
    } catch (cause) {
      throw new IndexCorruptError(file, (cause as Error).message, { cause });
    }
    if (decoded.ids.length !== expected.positions) {
      throw new IndexCorruptError(file, `id map holds ${decoded.ids.length} positions in ${buf.length} bytes, the index has ${expected.positions}`);
    }
    const map = new IdMap(expected.positions);
    map.ids.set(decoded.ids);
    for (const [id, p] of decoded.slotOf) map.pos.set(id, p);
    map.used = expected.positions;
    if (map.size !== expected.live) {
      throw new IndexCorruptError(file, `id map has ${map.size} live ids, the manifest says ${expected.live}`);
    }
    return map;
  }

  private reserve(n: number): void {
    if (n <= this.ids.length) return;
    const next = new Float64Array(Math.max(n, Math.ceil(this.ids.length * 1.5)));
    next.set(this.ids.subarray(0, this.used));
    this.ids = next;
  }
}

/**
 * Rows of a batch to insert when ids repeat within it: the last occurrence wins, as if the rows
 * had been added one by one. Returns undefined when every id is distinct (insert all, in order).
 */
export function lastOccurrenceRows(ids: ArrayLike<number>): Float64Array | undefined {
  const last = new Map<number, number>();
  for (let r = 0; r < ids.length; r++) last.set(ids[r]!, r);
  if (last.size === ids.length) return undefined;
  const rows = new Float64Array(last.size);
  let o = 0;
  for (let r = 0; r < ids.length; r++) if (last.get(ids[r]!) === r) rows[o++] = r;
  return rows;
}
