import type { Catalog, CatalogOp, CatalogRoot, ImageRowData, ImageStatus } from '../catalog.js';
import type { SyncSummary } from '../types.js';
import type { Candidate, SyncStore } from './context.js';

/** Catalog ops per transaction outside the embedding chunks. */
export const COMMIT_EVERY = 500;

/** Reasons whose rows are retried by every sync (the cause may go away without the file changing). */
const TRANSIENT_REASONS = new Set(['unreadable', 'embed-error', 'model-changed']);

/** Status of a row skipped for `reason`: transient reasons are `failed` (retried by every sync), the rest `skipped`. */
export const statusFor = (reason: string): ImageStatus => (TRANSIENT_REASONS.has(reason) ? 'failed' : 'skipped');

/** A catalog row that holds the same content as a file (see `Catalog.findByHash`). */
export type KnownContent = NonNullable<ReturnType<Catalog['findByHash']>>;

/** The catalog row for a candidate file: its stat and sniffed facts, overridden by `fields`. */
export function rowFor(c: Candidate, fields: Partial<ImageRowData> & Pick<ImageRowData, 'status'>): ImageRowData {
  return {
    rootId: c.file.root.id,
    relPath: c.file.relPath,
    size: c.file.size,
    mtimeMs: c.file.mtimeMs,
    hash: c.hash ?? null,
    width: 0,
    height: 0,
    format: c.format ?? '',
    reason: null,
    message: null,
    embedding: null,
    meta: c.meta ?? null,
    ...fields,
  };
}

/**
 * The batch writer of a sync: queues catalog ops with their vectors, commits them in bounded
 * transactions (`Catalog.write`), then mirrors the committed rows into the vector index. Keeps the
 * sync's summary counts. Index failures are reported through `warn` (the catalog stays the truth:
 * the next open rebuilds the index from it).
 */
export class SyncWriter {
  readonly summary: SyncSummary = {
    added: 0,
    updated: 0,
    moved: 0,
    removed: 0,
    unchanged: 0,
    skipped: 0,
    embedded: 0,
    queued: 0,
    durationMs: 0,
    aborted: false,
    skippedFiles: [],
  };
  private pending: { ops: CatalogOp[]; vectors: (Float32Array | null)[]; removedFromIndex: number[] } = { ops: [], vectors: [], removedFromIndex: [] };

  constructor(
    private readonly catalog: Catalog,
    private readonly store: SyncStore,
    private readonly warn: (message: string) => void,
  ) {}

  /** Counts a skipped file in the summary (its row is written separately, or already right). */
  recordSkip(root: CatalogRoot, relPath: string, reason: string, message: string): void {
    this.summary.skipped++;
    this.summary.skippedFiles.push({ root: root.path, path: relPath, reason, message });
  }

  /** Commits the queued ops in one transaction, then applies their vectors to the index. */
  async commit(): Promise<void> {
    const batch = this.pending;
    this.pending = { ops: [], vectors: [], removedFromIndex: [] };
    if (batch.ops.length === 0) return;
    const inserted = this.catalog.write(batch.ops);
    let next = 0;
    const ids: number[] = [];
    const vecs: Float32Array[] = [];
    batch.ops.forEach((op, i) => {
      const id = op.op === 'insert' ? inserted[next++]! : op.id;
      const v = batch.vectors[i];
      if (v) {
        ids.push(id);
        vecs.push(v);
      }
    });
    const dim = vecs[0]?.length ?? 0;
    const flat = new Float32Array(ids.length * dim);
    vecs.forEach((v, i) => flat.set(v, i * dim));
    try {
      await this.store.apply(ids, flat, batch.removedFromIndex);
    } catch (err) {
      this.warn((err as Error).message);
    }
  }

  /**
   * Queues one op; commits when `limit` ops are queued. `wasIndexed`: the row's old vector is in
   * the index and must leave it (when the op stores no new vector).
   */
  async push(op: CatalogOp, vector: Float32Array | null, wasIndexed: boolean, limit = COMMIT_EVERY): Promise<void> {
    this.pending.ops.push(op);
    this.pending.vectors.push(vector);
    const id = op.op === 'insert' ? undefined : op.id;
    if (id !== undefined && wasIndexed && vector === null && op.op !== 'relocate') this.pending.removedFromIndex.push(id);
    if (this.pending.ops.length >= limit) await this.commit();
  }

  /** Writes a skipped/failed row for a file (insert, or replace of its existing row). */
  async skipFile(c: Candidate, reason: string, message: string, limit?: number): Promise<void> {
    this.recordSkip(c.file.root, c.file.relPath, reason, message);
    const row = rowFor(c, { status: statusFor(reason), reason, message });
    if (c.existing) await this.push({ op: 'replace', id: c.existing.id, row }, null, c.existing.status === 'indexed', limit);
    else await this.push({ op: 'insert', row }, null, false, limit);
  }

  /** Writes a `failed` row with `reason` for a file another process will embed (its old vector leaves the index). */
  async queue(c: Candidate, reason: string, message: string): Promise<void> {
    this.summary.queued++;
    const row = rowFor(c, { status: 'failed', reason, message });
    if (c.existing) await this.push({ op: 'replace', id: c.existing.id, row }, null, c.existing.status === 'indexed', Infinity);
    else await this.push({ op: 'insert', row }, null, false, Infinity);
  }

  /** Writes an indexed row (new file: added; existing row: updated). */
  async upsert(c: Candidate, row: ImageRowData, vector: Float32Array, limit?: number): Promise<void> {
    if (c.existing) {
      await this.push({ op: 'replace', id: c.existing.id, row }, vector, false, limit);
      this.summary.updated++;
    } else {
      await this.push({ op: 'insert', row }, vector, false, limit);
      this.summary.added++;
    }
  }

  /** Writes indexed rows for files whose content is already stored, reusing its embedding. */
  async copyEmbedding(group: readonly Candidate[], known: KnownContent, limit?: number): Promise<void> {
    for (const c of group) {
      const row = rowFor(c, { status: 'indexed', width: known.image.width, height: known.image.height, format: known.image.format, embedding: known.embedding });
      await this.upsert(c, row, known.embedding, limit);
    }
  }

  /** Relocates a row to a file (same id, same embedding), refreshing its stat (and its metadata when the file was read). */
  async relocate(id: number, c: Candidate): Promise<void> {
    await this.push({ op: 'relocate', id, rootId: c.file.root.id, relPath: c.file.relPath, size: c.file.size, mtimeMs: c.file.mtimeMs }, null, false);
    if (c.meta) await this.push({ op: 'metadata', id, meta: c.meta }, null, false);
  }
}
