import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Embedder } from '@pixsearch/core';
import { ClipEmbedder } from '../src/clip/index.js';
import { AbortedError, InvalidArgumentError } from '../src/errors.js';
import { TextEmbeddingCache } from '../src/engine/text-embedding-cache.js';
import { ensureTinyBundle } from '../src/testing/index.js';

/** A counting embedder: row i of text t is [len(t), i-th char code, …] — enough to tell rows apart. */
function counting(modelId = 'm', dimension = 4): Embedder & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    modelId,
    dimension,
    embedTexts: async (texts: readonly string[]) => {
      calls.push([...texts]);
      const out = new Float32Array(texts.length * dimension);
      texts.forEach((t, i) => {
        for (let j = 0; j < dimension; j++) out[i * dimension + j] = t.length * 100 + (t.charCodeAt(j) || 0);
      });
      return out;
    },
    embedImages: () => Promise.reject(new Error('not used')),
    close: async () => undefined,
  } as unknown as Embedder & { calls: string[][] };
}

describe('TextEmbeddingCache', () => {
  it('runs the model only for text lists it has not seen, and returns what the model returned', async () => {
    const e = counting();
    const cache = new TextEmbeddingCache(8);
    const direct = await e.embedTexts(['dog', 'cat']);
    e.calls.length = 0;
    expect(await cache.embed(e, ['dog', 'cat'])).toEqual(direct);
    expect(await cache.embed(e, ['dog', 'cat'])).toEqual(direct);
    expect(await cache.embed(e, ['cat', 'dog'])).toEqual(await counting().embedTexts(['cat', 'dog']));
    expect(e.calls).toEqual([['dog', 'cat'], ['cat', 'dog']]);
    expect(cache.size).toBe(2);
  });

  it('keys by model, and forgets the least recently used text first', async () => {
    const a = counting('a');
    const b = counting('b');
    const cache = new TextEmbeddingCache(2);
    await cache.embed(a, ['x']);
    await cache.embed(b, ['x']);
    expect(b.calls).toEqual([['x']]);
    await cache.embed(a, ['x']); // a:x is now the most recent
    await cache.embed(a, ['y']); // evicts b:x
    await cache.embed(b, ['x']);
    expect(b.calls).toEqual([['x'], ['x']]);
    expect(a.calls).toEqual([['x'], ['y']]);
  });
});

/** A gate the test opens: model runs wait at it (through the cache's `beforeRun` hook). */
function gate(): { wait: () => Promise<void>; open: () => void } {
  let open!: () => void;
  const p = new Promise<void>((r) => (open = r));
  return { wait: () => p, open };
}

const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe('TextEmbeddingCache micro-batching, on real ONNX sessions of the tiny bundle', () => {
  let fp32: ClipEmbedder;
  let quantized: ClipEmbedder;
  beforeAll(async () => {
    const tiny = await ensureTinyBundle({ dir: path.join(os.tmpdir(), 'pixsearch-test-models') });
    fp32 = await ClipEmbedder.create({ model: tiny, variant: { text: 'fp32' } });
    quantized = await ClipEmbedder.create({ model: tiny });
  });
  afterAll(async () => {
    await fp32?.close();
    await quantized?.close();
  });

  /**
   * A cache whose first model run waits at a gate: queries sent meanwhile queue behind it.
   * `runs` lists each run's queries, in order.
   */
  function heldCache(maxBatchTexts?: number) {
    const first = gate();
    const started = gate();
    const runs: string[][][] = [];
    const cache = new TextEmbeddingCache(64, {
      ...(maxBatchTexts === undefined ? {} : { maxBatchTexts }),
      beforeRun: async (queries) => {
        runs.push(queries.map((q) => [...q]));
        if (runs.length === 1) {
          started.open();
          await first.wait();
        }
      },
    });
    return { cache, runs, release: first.open, started: started.wait };
  }

  const QUERIES = [['a dog on a beach'], ['sunset over the mountains'], ['a red car', 'parked in the snow'], ['a bowl of soup'], ['two cats']];

  it('embeds the queries that wait for a busy tower in one run, each with its unbatched rows', async () => {
    for (const embedder of [fp32, quantized]) {
      const alone: Float32Array[] = [];
      for (const q of QUERIES) alone.push(await embedder.embedTexts(q));
      const { cache, runs, release, started } = heldCache();
      const first = cache.embed(embedder, QUERIES[0]!);
      await started();
      const rest = QUERIES.slice(1).map((q) => cache.embed(embedder, q));
      expect(cache.queued(embedder)).toBe(4);
      release();
      const got = [await first, ...(await Promise.all(rest))];
      // The first query alone; the four that queued behind it together, in arrival order.
      expect(runs).toEqual([[QUERIES[0]], QUERIES.slice(1)]);
      got.forEach((v, i) => {
        expect(v).toHaveLength(alone[i]!.length);
        if (embedder === fp32) {
          // fp32 rows do not depend on the batch.
          for (let j = 0; j < v.length; j++) expect(v[j]).toBeCloseTo(alone[i]![j]!, 5);
        } else {
          // The quantized tower quantizes activations per run: rows move slightly with the batch.
          for (let r = 0; r < v.length / 32; r++) expect(cos(v.subarray(r * 32, (r + 1) * 32), alone[i]!.subarray(r * 32, (r + 1) * 32))).toBeGreaterThan(0.999);
        }
      });
      // A query answered from the cache gets exactly what it got the first time.
      expect(await cache.embed(embedder, QUERIES[2]!)).toBe(got[2]);
      expect(runs).toHaveLength(2);
    }
  });

  it('never splits a query and keeps arrival order when the batch is full', async () => {
    const { cache, runs, release, started } = heldCache(3);
    const first = cache.embed(fp32, ['first']);
    await started();
    const rest = [['a'], ['b', 'c'], ['d'], ['e', 'f', 'g'], ['h']].map((q) => cache.embed(fp32, q));
    release();
    await Promise.all([first, ...rest]);
    expect(runs).toEqual([[['first']], [['a'], ['b', 'c']], [['d']], [['e', 'f', 'g']], [['h']]]);
  });

  it('an error in one query fails that query only', async () => {
    const { cache, release, started } = heldCache();
    const first = cache.embed(fp32, ['first']);
    await started();
    const good1 = cache.embed(fp32, ['a dog']);
    const bad = cache.embed(fp32, [42 as unknown as string]);
    const good2 = cache.embed(fp32, ['a cat', 'a bird']);
    const badResult = expect(bad).rejects.toBeInstanceOf(InvalidArgumentError);
    release();
    await first;
    await badResult;
    expect(await good1).toEqual(await fp32.embedTexts(['a dog']));
    const both = await good2;
    const alone = await fp32.embedTexts(['a cat', 'a bird']);
    for (let j = 0; j < both.length; j++) expect(both[j]).toBeCloseTo(alone[j]!, 5);
  });

  it('an aborted query leaves the queue (or its run) at once; the others are answered', async () => {
    const { cache, runs, release, started } = heldCache();
    const inRun = new AbortController();
    const first = cache.embed(fp32, ['first'], inRun.signal);
    await started();
    const waiting = new AbortController();
    const dropped = cache.embed(fp32, ['dropped'], waiting.signal);
    const kept = cache.embed(fp32, ['kept']);
    waiting.abort();
    // Rejected while the tower is still held: nothing waits for a model run.
    await expect(dropped).rejects.toBeInstanceOf(AbortedError);
    expect(cache.queued(fp32)).toBe(1);
    inRun.abort();
    await expect(first).rejects.toBeInstanceOf(AbortedError);
    release();
    expect(await kept).toEqual(await fp32.embedTexts(['kept']));
    expect(runs).toEqual([[['first']], [['kept']]]);
    // Already aborted: rejected without queueing.
    await expect(cache.embed(fp32, ['late'], AbortSignal.abort())).rejects.toBeInstanceOf(AbortedError);
    expect(runs).toHaveLength(2);
    // An aborted query is not cached: asked again, it runs.
    await cache.embed(fp32, ['dropped']);
    expect(runs).toHaveLength(3);
  });
});
