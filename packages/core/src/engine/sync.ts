import { AbortedError, ImageDecodeError } from '../errors.js';
import type { Embedder } from '../embedder.js';
import type { Catalog, CatalogImage, CatalogOp, CatalogRoot, ImageRowData, ImageStatus } from './catalog.js';
import type { IndexStore } from './index-store.js';
import { inspectFile } from './inspect.js';
import { PhaseProgress } from './progress.js';
import { DECODABLE_FORMATS } from './sniff.js';
import type { SkippedFile, SyncProgress, SyncSummary } from './types.js';
import { walkRoot, type WalkEntry } from './walk.js';

/** What a sync needs from the engine. */
export interface SyncContext {
  catalog: Catalog;
  store: IndexStore;
  /** Returns the (model-checked) embedder; called only when something must be embedded. */
  embedder: () => Promise<Embedder>;
  progress: (p: SyncProgress) => void;
  warn: (message: string) => void;
  ignore: readonly string[];
  /** `dev:ino` keys of folders never walked (the data directory). */
  exclude: ReadonlySet<string>;
  /** Images per embedder call (the embedder batches inside). */
  chunkSize: number;
  maxPixels: number;
  maxFileBytes: number;
  /** Save the index at most this often during a long sync (ms). */
  saveIntervalMs: number;
  signal: AbortSignal | undefined;
}

/** A file on disk, located in the library. */
interface Found extends WalkEntry {
  root: CatalogRoot;
}

/** A file that must be read (new, changed, or failed before). */
interface Candidate {
  file: Found;
  existing: CatalogImage | undefined;
  hash?: string;
  format?: string;
}

/** Reasons whose rows are retried by every sync (the cause may go away without the file changing). */
const TRANSIENT_REASONS = new Set(['unreadable', 'embed-error', 'model-changed']);

const statusFor = (reason: string): ImageStatus => (TRANSIENT_REASONS.has(reason) ? 'failed' : 'skipped');

const UNSUPPORTED_MESSAGES: Record<string, string> = {
  heic: 'HEIC/HEIF images cannot be decoded by the prebuilt sharp binaries; convert them to JPEG (e.g. heif-convert) to index them',
  bmp: 'BMP images are not supported by sharp; convert them to PNG to index them',
  jxl: 'JPEG XL images are not supported by the prebuilt sharp binaries; convert them to JPEG or PNG to index them',
};

const posixPrefixCovers = (prefixes: readonly string[], rel: string): boolean => prefixes.some((p) => p === '' || rel.startsWith(p));

/**
 * One incremental sync of `roots`:
 * 1. scan: walk the roots (stat only);
 * 2. classify against the catalog: same size and mtime → unchanged (not read); otherwise a candidate;
 *    catalog rows not seen → vanished (kept when their folder could not be read);
 * 3. hash changed files (and new ones when something vanished): identical content → touched (stat
 *    refreshed) or moved (the vanished row is relocated: same id, same embedding);
 * 4. content already stored elsewhere → its embedding is copied; vanished rows are deleted;
 * 5. embed the rest in chunks (new files are hashed just before, overlapping the previous chunk's
 *    inference), each chunk committed in one transaction, then mirrored into the index.
 * Bad files become skipped/failed rows with a reason. An abort (signal) ends between steps with
 * everything committed so far kept, and `aborted: true`.
 */
export async function runSync(ctx: SyncContext, roots: readonly CatalogRoot[]): Promise<SyncSummary> {
  const started = performance.now();
  const summary: SyncSummary = {
    added: 0,
    updated: 0,
    moved: 0,
    removed: 0,
    unchanged: 0,
    skipped: 0,
    embedded: 0,
    durationMs: 0,
    aborted: false,
    skippedFiles: [],
  };
  const { catalog, store, signal } = ctx;
  const checkAbort = (): void => {
    if (signal?.aborted) throw new AbortedError('sync');
  };
  const recordSkip = (root: CatalogRoot, relPath: string, reason: string, message: string): void => {
    summary.skipped++;
    summary.skippedFiles.push({ root: root.path, path: relPath, reason, message });
  };

  // Ops are committed in bounded transactions, then mirrored into the index.
  let pending: { ops: CatalogOp[]; vectors: (Float32Array | null)[]; removedFromIndex: number[] } = { ops: [], vectors: [], removedFromIndex: [] };
  const commit = async (): Promise<void> => {
    const batch = pending;
    pending = { ops: [], vectors: [], removedFromIndex: [] };
    if (batch.ops.length === 0) return;
    const inserted = catalog.write(batch.ops);
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
      await store.apply(ids, flat, batch.removedFromIndex);
    } catch (err) {
      ctx.warn((err as Error).message);
    }
  };
  const push = async (op: CatalogOp, vector: Float32Array | null, wasIndexed: boolean, limit = COMMIT_EVERY): Promise<void> => {
    pending.ops.push(op);
    pending.vectors.push(vector);
    const id = op.op === 'insert' ? undefined : op.id;
    if (id !== undefined && wasIndexed && vector === null && op.op !== 'relocate') pending.removedFromIndex.push(id);
    if (pending.ops.length >= limit) await commit();
  };
  const rowFor = (c: Candidate, fields: Partial<ImageRowData> & Pick<ImageRowData, 'status'>): ImageRowData => ({
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
    ...fields,
  });
  /** Writes a skipped/failed row for a file (insert, or replace of its existing row). */
  const skipFile = async (c: Candidate, reason: string, message: string, limit?: number): Promise<void> => {
    recordSkip(c.file.root, c.file.relPath, reason, message);
    const row = rowFor(c, { status: statusFor(reason), reason, message });
    if (c.existing) await push({ op: 'replace', id: c.existing.id, row }, null, c.existing.status === 'indexed', limit);
    else await push({ op: 'insert', row }, null, false, limit);
  };
  /** Writes an indexed row (new file: added; existing row: updated). */
  const upsert = async (c: Candidate, row: ImageRowData, vector: Float32Array, limit?: number): Promise<void> => {
    if (c.existing) {
      await push({ op: 'replace', id: c.existing.id, row }, vector, false, limit);
      summary.updated++;
    } else {
      await push({ op: 'insert', row }, vector, false, limit);
      summary.added++;
    }
  };
  type Known = NonNullable<ReturnType<Catalog['findByHash']>>;
  /** Splits hashed files into groups of identical content: already stored (reuse) or to embed. */
  const groupByContent = (files: readonly Candidate[]): { toEmbed: Candidate[][]; reused: { group: Candidate[]; known: Known }[] } => {
    const groups = new Map<string, Candidate[]>();
    for (const c of files) {
      const g = groups.get(c.hash!);
      if (g) g.push(c);
      else groups.set(c.hash!, [c]);
    }
    const toEmbed: Candidate[][] = [];
    const reused: { group: Candidate[]; known: Known }[] = [];
    for (const [hash, group] of groups) {
      const known = catalog.findByHash(hash);
      if (known) reused.push({ group, known });
      else toEmbed.push(group);
    }
    return { toEmbed, reused };
  };
  const copyEmbedding = async (group: readonly Candidate[], known: Known, limit?: number): Promise<void> => {
    for (const c of group) {
      const row = rowFor(c, { status: 'indexed', width: known.image.width, height: known.image.height, format: known.image.format, embedding: known.embedding });
      await upsert(c, row, known.embedding, limit);
    }
  };

  try {
    // ---- scan -----------------------------------------------------------------------------------
    const visited = new Set<string>();
    const found: Found[] = [];
    const unreadable = new Map<number, string[]>();
    const scan = new PhaseProgress('scan', undefined, ctx.progress);
    for (const root of roots) {
      const base = found.length;
      const res = await walkRoot(root.path, {
        ignore: ctx.ignore,
        visited,
        exclude: ctx.exclude,
        ...(signal ? { signal } : {}),
        onFile: (n) => scan.update(base + n),
      });
      for (const w of res.warnings) ctx.warn(w);
      unreadable.set(root.id, res.unreadable);
      for (const e of res.entries) found.push({ ...e, root });
      scan.update(found.length);
    }
    scan.update(found.length, undefined, true);
    checkAbort();

    // ---- classify -------------------------------------------------------------------------------
    const candidates: Candidate[] = [];
    const vanished: CatalogImage[] = [];
    const byRoot = new Map<number, Found[]>();
    for (const f of found) {
      const list = byRoot.get(f.root.id);
      if (list) list.push(f);
      else byRoot.set(f.root.id, [f]);
    }
    for (const root of roots) {
      const existing = new Map<string, CatalogImage>();
      catalog.forEachFileState(root.id, (rows) => {
        for (const r of rows) existing.set(r.relPath, r);
      });
      for (const f of byRoot.get(root.id) ?? []) {
        const st = existing.get(f.relPath);
        existing.delete(f.relPath);
        const sameStat = st !== undefined && st.size === f.size && st.mtimeMs === f.mtimeMs;
        const nonFileReason = f.kind === 'broken-symlink' ? 'broken-symlink' : f.kind === 'not-a-file' ? 'not-a-file' : !f.validName ? 'invalid-file-name' : undefined;
        if (nonFileReason) {
          const message =
            nonFileReason === 'broken-symlink'
              ? 'symbolic link to a missing file'
              : nonFileReason === 'not-a-file'
                ? 'not a regular file (device, FIFO or socket)'
                : 'the file name is not valid UTF-8; rename the file to index it';
          if (st && sameStat && st.status === 'skipped' && st.reason === nonFileReason) recordSkip(root, f.relPath, nonFileReason, message);
          else await skipFile({ file: f, existing: st }, nonFileReason, message);
          continue;
        }
        if (st && sameStat && st.status !== 'failed') {
          if (st.status === 'indexed') summary.unchanged++;
          else recordSkip(root, f.relPath, st.reason ?? 'skipped', st.message ?? '');
          continue;
        }
        candidates.push({ file: f, existing: st });
      }
      const keep = unreadable.get(root.id) ?? [];
      for (const st of existing.values()) {
        if (!posixPrefixCovers(keep, st.relPath)) vanished.push(st);
      }
    }
    await commit();
    checkAbort();

    // ---- hash -----------------------------------------------------------------------------------
    // Changed files must be hashed now (a touched file is not re-embedded), and so must new files
    // when some indexed file vanished (it may have moved). Other new files are hashed chunk by chunk
    // right before they are embedded: the first embedding starts at once and the decoder reads
    // each file from the page cache instead of the disk a second time.
    const movesPossible = vanished.some((v) => v.status === 'indexed' && v.hash);
    const eager = candidates.filter((c) => c.existing !== undefined || movesPossible);
    const deferred = candidates.filter((c) => !(c.existing !== undefined || movesPossible));
    const hashed: Candidate[] = [];
    const hashing = new PhaseProgress('hash', eager.length, ctx.progress);
    let hashDone = 0;
    for (let start = 0; start < eager.length; start += HASH_BATCH) {
      checkAbort();
      const slice = eager.slice(start, start + HASH_BATCH);
      for (const r of await inspectAll(slice, ctx)) {
        if (r.reason) await skipFile(r.c, r.reason, r.message);
        else hashed.push(r.c);
      }
      hashDone += slice.length;
      hashing.update(hashDone, slice[slice.length - 1]?.file.relPath);
    }
    hashing.finish();
    await commit();
    checkAbort();

    // ---- resolve: touched, moved ----------------------------------------------------------------
    const vanishedByHash = new Map<string, CatalogImage[]>();
    for (const v of vanished) {
      if (v.status !== 'indexed' || !v.hash) continue;
      const list = vanishedByHash.get(v.hash);
      if (list) list.push(v);
      else vanishedByHash.set(v.hash, [v]);
    }
    const movedIds = new Set<number>();
    const needContent: Candidate[] = [];
    for (const c of hashed) {
      const st = c.existing;
      if (st && st.hash === c.hash && st.status !== 'failed') {
        // Touched but identical: keep the embedding (or the recorded skip), refresh the stat.
        await push({ op: 'relocate', id: st.id, rootId: c.file.root.id, relPath: c.file.relPath, size: c.file.size, mtimeMs: c.file.mtimeMs }, null, false);
        if (st.status === 'indexed') summary.unchanged++;
        else recordSkip(c.file.root, c.file.relPath, st.reason ?? 'skipped', st.message ?? '');
        continue;
      }
      if (!st) {
        const from = vanishedByHash.get(c.hash!)?.pop();
        if (from) {
          movedIds.add(from.id);
          await push({ op: 'relocate', id: from.id, rootId: c.file.root.id, relPath: c.file.relPath, size: c.file.size, mtimeMs: c.file.mtimeMs }, null, false);
          summary.moved++;
          continue;
        }
      }
      needContent.push(c);
    }
    await commit();

    // Known content (copies, reverts, swaps) reuses stored embeddings; this must run before the
    // deletions below, which may remove the only row holding that content.
    const { toEmbed, reused } = groupByContent(needContent);
    for (const { group, known } of reused) await copyEmbedding(group, known);
    await commit();

    // ---- remove what vanished -------------------------------------------------------------------
    for (const v of vanished) {
      if (movedIds.has(v.id)) continue;
      await push({ op: 'delete', id: v.id }, null, v.status === 'indexed');
      if (v.status === 'indexed') summary.removed++;
    }
    await commit();
    checkAbort();

    // ---- embed ----------------------------------------------------------------------------------
    // Work units: groups of hashed files with the same new content, and not-yet-hashed new files.
    type Unit = { group: Candidate[] } | { file: Candidate };
    const units: Unit[] = [...toEmbed.map((group) => ({ group })), ...deferred.map((file) => ({ file }))];
    if (units.length > 0) {
      const embedder = await ctx.embedder();
      await store.ensure(embedder.dimension);
      const dim = embedder.dimension;
      const totalFiles = toEmbed.reduce((n, g) => n + g.length, 0) + deferred.length;
      const embedding = new PhaseProgress('embed', totalFiles, ctx.progress);
      let done = 0;
      const chunks: Unit[][] = [];
      for (let start = 0; start < units.length; start += ctx.chunkSize) chunks.push(units.slice(start, start + ctx.chunkSize));
      // Hashing of chunk n+1 overlaps the embedding of chunk n (the model runs off the main thread).
      const inspectChunk = (chunk: Unit[]) => inspectAll(chunk.flatMap((u) => ('file' in u ? [u.file] : [])), ctx);
      let nextInspection = chunks.length > 0 ? inspectChunk(chunks[0]!) : undefined;
      for (let i = 0; i < chunks.length; i++) {
        const chunk = chunks[i]!;
        const inspected = await nextInspection!;
        nextInspection = i + 1 < chunks.length ? inspectChunk(chunks[i + 1]!) : undefined;
        nextInspection?.catch(() => undefined);
        checkAbort();
        const fresh: Candidate[] = [];
        for (const r of inspected) {
          if (r.reason) await skipFile(r.c, r.reason, r.message, Infinity);
          else fresh.push(r.c);
        }
        // Content seen in an earlier chunk (or elsewhere in the library) is copied, not embedded.
        const grouped = groupByContent(fresh);
        for (const { group, known } of grouped.reused) await copyEmbedding(group, known, Infinity);
        const groups = chunk.flatMap((u) => ('group' in u ? [u.group] : []));
        const byHash = new Map(groups.map((g) => [g[0]!.hash!, g]));
        for (const g of grouped.toEmbed) {
          const same = byHash.get(g[0]!.hash!);
          if (same) same.push(...g);
          else groups.push(g);
        }
        if (groups.length > 0) {
          const inputs = groups.map((g) => g[0]!.file.absPath as string);
          let result: Awaited<ReturnType<Embedder['embedImages']>> | undefined;
          let batchError: Error | undefined;
          try {
            result = await embedder.embedImages(inputs, signal ? { signal } : {});
          } catch (err) {
            if (signal?.aborted) throw new AbortedError('sync');
            batchError = err as Error;
          }
          for (let g = 0; g < groups.length; g++) {
            const group = groups[g]!;
            const err = batchError ?? result!.errors[g];
            if (err) {
              const reason = batchError ? 'embed-error' : err instanceof ImageDecodeError && err.reason ? err.reason : 'decode-failed';
              for (const c of group) await skipFile(c, reason, err.message, Infinity);
              continue;
            }
            const vector = result!.vectors.slice(g * dim, (g + 1) * dim);
            if (!isUsable(vector)) {
              // Never store a vector the index would refuse: it would poison every rebuild.
              for (const c of group) await skipFile(c, 'embed-error', 'the model produced an invalid embedding (NaN, infinite or zero)', Infinity);
              continue;
            }
            summary.embedded++;
            const size = result!.sizes[g];
            for (const c of group) {
              const row = rowFor(c, { status: 'indexed', width: size?.width ?? 0, height: size?.height ?? 0, format: size?.format || c.format || '', embedding: vector });
              await upsert(c, row, vector, Infinity);
            }
          }
        }
        // One transaction per chunk: a crash loses at most the chunk in flight.
        await commit();
        done += chunk.reduce((n, u) => n + ('group' in u ? u.group.length : 1), 0);
        embedding.update(done, groups[groups.length - 1]?.[0]?.file.relPath);
        if (store.saveDue(ctx.saveIntervalMs)) await store.save();
      }
      embedding.finish();
    }
  } catch (err) {
    if (!(err instanceof AbortedError)) {
      await commit().catch(() => undefined);
      await store.save().catch(() => undefined);
      throw err;
    }
    summary.aborted = true;
  }
  // Anything queued is consistent on its own: keep it.
  await commit();
  await store.save();
  if (!summary.aborted) catalog.updateSettings({ lastSync: new Date().toISOString() });
  summary.durationMs = performance.now() - started;
  const files = summary.added + summary.updated + summary.moved + summary.unchanged + summary.skipped;
  ctx.progress({ phase: 'done', done: files, total: files, rate: files / Math.max(summary.durationMs / 1000, 1e-3), etaSeconds: 0 });
  return summary;
}

/** Files read concurrently while hashing. */
const HASH_CONCURRENCY = 4;
/** Files per hashing step of the hash phase (between abort checks and progress events). */
const HASH_BATCH = 32;
/** Catalog ops per transaction outside the embedding chunks. */
const COMMIT_EVERY = 500;

interface Inspection {
  c: Candidate;
  reason?: string;
  message: string;
}

/** Hashes and sniffs files (a few at a time); sets `hash`/`format`, or says why a file is skipped. */
async function inspectAll(files: readonly Candidate[], ctx: SyncContext): Promise<Inspection[]> {
  return mapLimit(files, HASH_CONCURRENCY, async (c): Promise<Inspection> => {
    if (c.file.size === 0) return { c, reason: 'empty', message: 'the file is empty (0 bytes)' };
    if (c.file.size > ctx.maxFileBytes) {
      return { c, reason: 'too-large', message: `the file has ${c.file.size} bytes, more than the limit of ${ctx.maxFileBytes}` };
    }
    try {
      const info = await inspectFile(c.file.absPath);
      c.hash = info.hash;
      c.format = info.sniffed.format;
      const { format, width, height } = info.sniffed;
      if (format === 'unknown') return { c, reason: 'not-an-image', message: 'the content is not a recognised image format' };
      if (!DECODABLE_FORMATS.has(format)) {
        return { c, reason: 'unsupported-format', message: UNSUPPORTED_MESSAGES[format] ?? `${format} images are not supported` };
      }
      if (width !== undefined && height !== undefined) {
        if (width === 0 || height === 0) return { c, reason: 'corrupt', message: `the header declares an empty ${width}×${height} image` };
        if (width * height > ctx.maxPixels) {
          return { c, reason: 'too-large', message: `${width}×${height} pixels exceeds the limit of ${ctx.maxPixels} (decompression bomb guard)` };
        }
      }
      return { c, message: '' };
    } catch (err) {
      return { c, reason: 'unreadable', message: `cannot read the file: ${(err as Error).message}` };
    }
  });
}

/** True when every component is finite and the vector is not all zeros. */
function isUsable(v: Float32Array): boolean {
  let sum = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (!Number.isFinite(x)) return false;
    sum += x * x;
  }
  return sum > 0;
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export type { SkippedFile };
