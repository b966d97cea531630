// Index searches run off the main thread: while the exact backend's shard workers are held
// with a search in flight, the server still answers other requests. Ordered by hooks
// (ExactIndex.suspend / nextSearch), not by timings: if a search blocked the event loop, the
// status request could not be answered before the release and the test would fail.
import { registerBackend, type IndexManifest, type ResolvedIndexOptions } from '@pixsearch/core';
import type { ExactIndex } from '@pixsearch/index-hnsw';
import { exactBackend } from '@pixsearch/index-hnsw';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type PixsearchApp } from '../src/index.js';
import { openLibrary, type TestLibrary } from './support/library.js';

// Wrap the real exact backend so the test can reach the index the engine opens.
const opened: ExactIndex[] = [];
registerBackend({
  ...exactBackend,
  create: async (o: ResolvedIndexOptions) => {
    const index = (await exactBackend.create(o)) as ExactIndex;
    opened.push(index);
    return index;
  },
  load: async (dir: string, manifest: IndexManifest) => {
    const index = (await exactBackend.load(dir, manifest)) as ExactIndex;
    opened.push(index);
    return index;
  },
});

let lib: TestLibrary;
let app: PixsearchApp;

beforeAll(async () => {
  lib = await openLibrary({ count: 8, backend: 'exact' });
  app = createApp(lib.engine, { heartbeatMs: 250, searchConcurrency: 2 });
});

afterAll(async () => {
  await app?.shutdown();
  await lib?.close();
});

describe('the event loop during index searches', () => {
  it('answers other requests while text and similar-image searches are in flight', async () => {
    const stats = await lib.engine.stats();
    expect(stats.backend).toBe('exact');
    const index = opened.at(-1)!;
    expect(index.size).toBe(stats.indexSize);
    expect(index.size).toBeGreaterThan(3);
    const release = await index.suspend();
    const posted = index.nextSearch();
    let settled = 0;
    const text = Promise.resolve(app.request('/api/search?q=a%20red%20square&k=3&threshold=-1')).finally(() => settled++);
    await posted; // the text query is now in the held workers
    const postedSimilar = index.nextSearch();
    const similar = Promise.resolve(app.request('/api/images/1/similar?k=3')).finally(() => settled++);
    await postedSimilar;
    for (let i = 0; i < 3; i++) {
      const status = await app.request('/api/status');
      expect(status.status).toBe(200);
    }
    expect(settled).toBe(0);
    await release();
    const [t, s] = await Promise.all([text, similar]);
    expect(t.status).toBe(200);
    expect(((await t.json()) as { results: unknown[] }).results).toHaveLength(3);
    expect(s.status).toBe(200);
    expect(((await s.json()) as { results: unknown[] }).results.length).toBeGreaterThan(0);
  });
});
