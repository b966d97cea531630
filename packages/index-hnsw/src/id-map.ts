import { readFile, writeFile } from 'node:fs/promises';
import { decodeIdMap, EMPTY_SLOT, encodeIdMap, InvalidArgumentError } from '@pixsearch/core';
import { fsyncFile } from './binary-reader.js';

/** Marks a label that is allocated in the native index but holds no live vector. */
const FREE = EMPTY_SLOT;

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

  /** Writes the map to `file` as core's `PXIDMAP1` file, one slot per label (the caller makes it atomic). */
  async write(file: string): Promise<void> {
    await writeFile(file, encodeIdMap(this.labelToId, this.labels));
    await fsyncFile(file);
  }

  /** Reads a map written by {@link write}. Throws `LabelMapFormatError` on any inconsistency. */
  static async read(file: string, maxLabel: number): Promise<LabelMap> {
    let decoded: ReturnType<typeof decodeIdMap>;
    try {
      decoded = decodeIdMap(await readFile(file), maxLabel + 1);
    } catch (cause) {
      throw new LabelMapFormatError((cause as Error).message, { cause });
    }
    const n = decoded.ids.length;
    const map = new LabelMap(maxLabel, n);
    map.labelToId.set(decoded.ids);
    for (const [id, label] of decoded.slotOf) map.idToLabel.set(id, label);
    for (let label = 0; label < n; label++) if (decoded.ids[label] === FREE) map.freeLabels.push(label);
    map.labels = n;
    // Reuse the lowest labels first (pop takes from the end).
    map.freeLabels.reverse();
    return map;
  }
}
