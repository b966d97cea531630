// A backend added as one folder, nothing else edited: test/fixtures/backend-plugin is a package no
// part of pixsearch names. Copied into a folder listed in PIXSEARCH_BACKENDS (with its
// node_modules/@pixsearch/core link, as an install would leave it), it is discovered, registered,
// passes the conformance suite and serves a library through the engine by its name alone.
import { cpSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createIndex, discoverBackends, getBackend, listBackends } from '@pixsearch/core';
import { SearchEngine } from '@pixsearch/core/engine';
import { describeVectorIndexConformance, writeTestImages } from '@pixsearch/core/testing';
import { PixelEmbedder, removeDir } from './engine-helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const plugins = mkdtempSync(path.join(tmpdir(), 'pixsearch-plugins-'));
const folder = path.join(plugins, 'toy');
cpSync(path.join(here, 'fixtures/backend-plugin'), folder, { recursive: true });
mkdirSync(path.join(folder, 'node_modules/@pixsearch'), { recursive: true });
symlinkSync(path.resolve(here, '..'), path.join(folder, 'node_modules/@pixsearch/core'), 'dir');
process.env.PIXSEARCH_BACKENDS = plugins;
await discoverBackends({ force: true });

afterAll(async () => {
  await removeDir(plugins);
});

describe('a backend in its own folder', () => {
  it('is discovered and registered next to the workspace adapters', async () => {
    const names = (await listBackends()).map((b) => b.name);
    expect(names).toContain('toy-flat');
    expect(names).toContain('faiss-flat');
    const toy = await getBackend('toy-flat');
    expect(toy).toMatchObject({ library: 'toy@1.0.0', persistence: 'files' });
  });

  it('serves a library through the engine by name, and reopens it from the catalog', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pixsearch-plugin-lib-'));
    try {
      const images = path.join(dir, 'images');
      await writeTestImages(images, 6);
      const embedder = new PixelEmbedder();
      const engine = await SearchEngine.open({ dataDir: path.join(dir, 'data'), roots: [images], backend: 'toy-flat', embedder });
      const summary = await engine.sync();
      expect(summary.added).toBe(6);
      const first = engine.getImage(1)!;
      const res = await engine.similar(first.id, { k: 3, threshold: -1 });
      expect(res.results).toHaveLength(3);
      expect((await engine.stats()).backend).toBe('toy-flat');
      await engine.close();
      // No backend named: the catalog's choice is found in the registry, the saved index loads.
      const again = await SearchEngine.open({ dataDir: path.join(dir, 'data'), embedder });
      const warnings: string[] = [];
      again.on('warning', (w) => warnings.push(w));
      expect((await again.stats()).backend).toBe('toy-flat');
      expect((await again.similar(first.id, { k: 3, threshold: -1 })).results).toEqual(res.results);
      await new Promise((r) => setImmediate(r));
      expect(warnings).toEqual([]);
      await again.close();
    } finally {
      await removeDir(dir);
    }
  });
});

describeVectorIndexConformance({
  name: 'toy-flat (plugin folder)',
  create: (o) => createIndex({ backend: 'toy-flat', ...o }),
  recallSize: { n: 2000, dimension: 64, queries: 20 },
});
