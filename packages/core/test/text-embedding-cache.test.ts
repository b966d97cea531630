import { describe, expect, it } from 'vitest';
import type { Embedder } from '@pixsearch/core';
import { TextEmbeddingCache } from '../src/engine/text-embedding-cache.js';

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
