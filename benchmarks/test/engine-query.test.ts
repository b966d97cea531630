// The end-to-end engine query measurement, on the tiny generated bundle and a small library
// (the published run uses the full-size ViT-B/32 bundle over 100k images).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { registerAdapters } from '../src/adapters.js';
import { ensureSynthetic } from '../src/datasets/store.js';
import { queryTexts, runEngineQuery } from '../src/engine-query/engine-query.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pixsearch-engine-q-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('end-to-end text query through the engine', () => {
  it('makes unique queries', () => {
    const q = queryTexts(500);
    expect(new Set(q).size).toBe(500);
  });

  it('builds a library from stored embeddings and splits query time into stages', async () => {
    await registerAdapters();
    const datasetDir = ensureSynthetic(path.join(dir, 'data'), 1500, 10, 1, 32);
    const lines: string[] = [];
    const opts = {
      datasetDir,
      bundleDir: path.join(dir, 'tiny-bundle'),
      libraryDir: path.join(dir, 'library'),
      backend: 'faiss-flat' as const,
      queries: 8,
      k: 5,
      preset: 'tiny' as const,
      log: (l: string) => lines.push(l),
    };
    const r = await runEngineQuery(opts);
    expect(r.images).toBe(1500);
    expect(r.queries).toBe(8);
    expect(r.generateMs).toBeGreaterThan(0);
    expect(r.catalogWriteMs).toBeGreaterThan(0);
    for (const stage of Object.values(r.stages)) {
      expect(stage.p50).toBeGreaterThanOrEqual(0);
      expect(stage.p99).toBeGreaterThanOrEqual(stage.p50);
    }
    expect(r.stages.total.p50).toBeGreaterThanOrEqual(r.stages.search.p50);
    // A second run reuses the bundle and the library.
    const again = await runEngineQuery(opts);
    expect(again.generateMs).toBe(0);
    expect(again.catalogWriteMs).toBe(0);
  }, 120_000);
});
