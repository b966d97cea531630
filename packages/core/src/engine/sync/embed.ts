import { AbortedError, ImageDecodeError } from '../../errors.js';
import type { Embedder } from '../../embedder.js';
import { PhaseProgress } from '../progress.js';
import { checkAbort, type Candidate, type SyncContext } from './context.js';
import { inspectAll } from './inspect-files.js';
import { settleInspected } from './resolve.js';
import { rowFor, type SyncWriter } from './writer.js';

/** A unit of embedding work: a group of hashed files with the same new content, or a not-yet-hashed new file. */
type Unit = { group: Candidate[] } | { file: Candidate };

/**
 * Phase 5, embed the rest in chunks of `ctx.chunkSize`: new files are hashed just before, overlapping
 * the previous chunk's inference; content seen before is copied, not embedded; each chunk is
 * committed in one transaction (a crash loses at most the chunk in flight), then mirrored into the
 * index, which is saved when due.
 */
export async function embedNew(ctx: SyncContext, writer: SyncWriter, toEmbed: readonly Candidate[][], deferred: readonly Candidate[]): Promise<void> {
  const units: Unit[] = [...toEmbed.map((group) => ({ group })), ...deferred.map((file) => ({ file }))];
  if (units.length === 0) return;
  const { store } = ctx;
  // The model loads before the first image (seconds for a large one): say so, every second.
  const loading = new PhaseProgress('load-model', undefined, ctx.progress, { heartbeat: true });
  let embedder: Embedder;
  try {
    embedder = await ctx.embedder();
    await embedder.load?.(['vision']);
  } finally {
    loading.finish();
  }
  await store.ensure(embedder.dimension);
  const dim = embedder.dimension;
  const totalFiles = toEmbed.reduce((n, g) => n + g.length, 0) + deferred.length;
  const embedding = new PhaseProgress('embed', totalFiles, ctx.progress, { heartbeat: true });
  embedding.decoded = 0;
  embedding.embedded = 0;
  let done = 0;
  let decodedBefore = 0;
  let embeddedBefore = 0;
  try {
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
    checkAbort(ctx);
    // Content seen in an earlier chunk (or elsewhere in the library) is copied, not embedded.
    const toEmbedHere = await settleInspected(ctx, writer, inspected);
    const groups = chunk.flatMap((u) => ('group' in u ? [u.group] : []));
    const byHash = new Map(groups.map((g) => [g[0]!.hash!, g]));
    for (const g of toEmbedHere) {
      const same = byHash.get(g[0]!.hash!);
      if (same) same.push(...g);
      else groups.push(g);
    }
    // Files of this chunk settled without the model (skipped, or their content copied).
    const skippedHere = inspected.length - toEmbedHere.reduce((n, g) => n + g.length, 0);
    if (groups.length > 0) {
      const current = groups[0]?.[0]?.file.relPath;
      await embedGroups(ctx, writer, embedder, dim, groups, (embeddedNow, decodedNow) => {
        embedding.decoded = decodedBefore + decodedNow;
        embedding.embedded = embeddedBefore + embeddedNow;
        embedding.update(done + skippedHere + embeddedNow, current);
      });
      decodedBefore += groups.length;
      embeddedBefore += groups.length;
    }
    // One transaction per chunk: a crash loses at most the chunk in flight.
    await writer.commit();
    done += chunk.reduce((n, u) => n + ('group' in u ? u.group.length : 1), 0);
    embedding.decoded = decodedBefore;
    embedding.embedded = embeddedBefore;
    embedding.update(done, groups[groups.length - 1]?.[0]?.file.relPath);
    if (store.saveDue(ctx.saveIntervalMs)) await store.save();
  }
  } finally {
    embedding.finish();
  }
}

/** Embeds one image per group (one embedder call) and queues the rows of every file of each group. */
async function embedGroups(
  ctx: SyncContext,
  writer: SyncWriter,
  embedder: Embedder,
  dim: number,
  groups: readonly Candidate[][],
  onProgress: (embedded: number, decoded: number) => void,
): Promise<void> {
  const { signal } = ctx;
  const inputs = groups.map((g) => g[0]!.file.absPath as string);
  let result: Awaited<ReturnType<Embedder['embedImages']>> | undefined;
  let batchError: Error | undefined;
  try {
    result = await embedder.embedImages(inputs, {
      ...(signal ? { signal } : {}),
      onProgress: (embedded, _total, decoded) => onProgress(embedded, decoded ?? embedded),
    });
  } catch (err) {
    if (signal?.aborted) throw new AbortedError('sync');
    batchError = err as Error;
  }
  for (let g = 0; g < groups.length; g++) {
    const group = groups[g]!;
    const err = batchError ?? result!.errors[g];
    if (err) {
      const reason = batchError ? 'embed-error' : err instanceof ImageDecodeError && err.reason ? err.reason : 'decode-failed';
      for (const c of group) await writer.skipFile(c, reason, err.message, Infinity);
      continue;
    }
    const vector = result!.vectors.slice(g * dim, (g + 1) * dim);
    if (!isUsable(vector)) {
      // Never store a vector the index would refuse: it would poison every rebuild.
      for (const c of group) await writer.skipFile(c, 'embed-error', 'the model produced an invalid embedding (NaN, infinite or zero)', Infinity);
      continue;
    }
    writer.summary.embedded++;
    const size = result!.sizes[g];
    for (const c of group) {
      const row = rowFor(c, { status: 'indexed', width: size?.width ?? 0, height: size?.height ?? 0, format: size?.format || c.format || '', embedding: vector });
      await writer.upsert(c, row, vector, Infinity);
    }
  }
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
