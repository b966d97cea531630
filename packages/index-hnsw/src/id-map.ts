import { open, readFile } from 'node:fs/promises';
import { InvalidArgumentError, MAX_ID } from '@pixsearch/core';

/** Marks a label that is allocated in the native index but holds no live vector. */
const FREE = -1;
const MAGIC = 'PXIDMAP1';
const HEADER_BYTES = 16; // magic (8) + label count (u64)

/** Error thrown by {@link LabelMap.read} for a malformed file; callers wrap it in `IndexCorruptError`. */
export class LabelMapFormatError extends Error {}

/**
 * Maps external ids (integers up to 2^53−1) to dense native labels 0..labelCount−1 and back,
 * for libraries whose labels are narrower than pixsearch ids (hnswlib-node: 32-bit).
 * A removed id frees its label; the next new id reuses it (so the native slot is reused too).
 *
 * File format (little-endian): `PXIDMAP1`, u64 label count, then one f64 per label: the id,
 * or −1 for a free label.
 */
export class LabelMap {
  private labelToId: Float64Array;
  private labels = 0;
  private readonly idToLabel = new Map<number, number>();
  private readonly freeLabels: number[] = [];

  constructor(
    /** Largest label the native library accepts. */
    readonly maxLabel: number,
    initialCapacity = 1024,
  ) {
    this.labelToId = new Float64Array(Math.max(16, initialCapacity));
  }

  /** Labels allocated so far (live + free): the native index's element count. */
  get labelCount(): number {
    return this.labels;
  }

  /** Live ids. */
  get size(): number {
    return this.idToLabel.size;
  }

  /** Labels that a new id would reuse before a fresh one is allocated. */
  get freeCount(): number {
    return this.freeLabels.length;
  }

  labelOf(id: number): number | undefined {
    return this.idToLabel.get(id);
  }

  /** The id stored under `label`, or undefined for a free or unknown label. */
  idOf(label: number): number | undefined {
    if (!(label >= 0 && label < this.labels)) return undefined;
    const id = this.labelToId[label]!;
    return id === FREE ? undefined : id;
  }

  /** Number of fresh labels (beyond reusable free ones) that `newIds` ids would need. */
  freshLabelsNeeded(newIds: number): number {
    return Math.max(0, newIds - this.freeLabels.length);
  }

  /**
   * Assigns a label to a new id: a freed one when available (`reused: true`: the native slot
   * still exists, marked deleted), otherwise the next fresh label.
   */
  assign(id: number): { label: number; reused: boolean } {
    const free = this.freeLabels.pop();
    if (free !== undefined) {
      this.labelToId[free] = id;
      this.idToLabel.set(id, free);
      return { label: free, reused: true };
    }
    if (this.labels > this.maxLabel) throw new InvalidArgumentError(`the index is full: at most ${this.maxLabel + 1} vectors`);
    if (this.labels === this.labelToId.length) {
      const grown = new Float64Array(this.labelToId.length * 2);
      grown.set(this.labelToId);
      this.labelToId = grown;
    }
    const label = this.labels++;
    this.labelToId[label] = id;
    this.idToLabel.set(id, label);
    return { label, reused: false };
  }

  /** Forgets `id` and frees its label; returns the label, or undefined when absent. */
  release(id: number): number | undefined {
    const label = this.idToLabel.get(id);
    if (label === undefined) return undefined;
    this.idToLabel.delete(id);
    this.labelToId[label] = FREE;
    this.freeLabels.push(label);
    return label;
  }

  /** Writes the map to `file` (the caller makes it atomic). */
  async write(file: string): Promise<void> {
    const fh = await open(file, 'w');
    try {
      const header = Buffer.alloc(HEADER_BYTES);
      header.write(MAGIC, 0, 'latin1');
      header.writeBigUInt64LE(BigInt(this.labels), 8);
      await fh.write(header);
      // Explicitly little-endian, in bounded chunks.
      const chunkLabels = 1 << 16;
      const chunk = Buffer.allocUnsafe(chunkLabels * 8);
      for (let start = 0; start < this.labels; start += chunkLabels) {
        const n = Math.min(chunkLabels, this.labels - start);
        for (let i = 0; i < n; i++) chunk.writeDoubleLE(this.labelToId[start + i]!, i * 8);
        await fh.write(chunk, 0, n * 8);
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  /** Reads a map written by {@link write}. Throws `LabelMapFormatError` on any inconsistency. */
  static async read(file: string, maxLabel: number): Promise<LabelMap> {
    const bytes = await readFile(file);
    if (bytes.length < HEADER_BYTES || bytes.toString('latin1', 0, 8) !== MAGIC) {
      throw new LabelMapFormatError('id map has no PXIDMAP1 header');
    }
    const count = bytes.readBigUInt64LE(8);
    if (count > BigInt(maxLabel) + 1n || BigInt(bytes.length) !== BigInt(HEADER_BYTES) + count * 8n) {
      throw new LabelMapFormatError(`id map declares ${count} labels but has ${bytes.length} bytes`);
    }
    const n = Number(count);
    const map = new LabelMap(maxLabel, n);
    for (let label = 0; label < n; label++) {
      const id = bytes.readDoubleLE(HEADER_BYTES + label * 8);
      map.labelToId[label] = id;
      if (id === FREE) {
        map.freeLabels.push(label);
      } else if (!Number.isSafeInteger(id) || id < 0 || id > MAX_ID) {
        throw new LabelMapFormatError(`id map holds an invalid id ${id} at label ${label}`);
      } else if (map.idToLabel.has(id)) {
        throw new LabelMapFormatError(`id map holds id ${id} twice`);
      } else {
        map.idToLabel.set(id, label);
      }
    }
    map.labels = n;
    // Reuse the lowest labels first (pop takes from the end).
    map.freeLabels.reverse();
    return map;
  }
}
