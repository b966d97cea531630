import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SearchEngine } from '@pixsearch/core/engine';
import { ensureTinyBundle } from '@pixsearch/core/testing';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresCatalog } from '../src/catalog/index.js';
import { LIBRARY_INDEX_NAME, runWorker, scanLibrary } from '../src/distributed/index.js';
import { waitFor } from '../src/testing/index.js';
import { externalUrl, freshDatabase, plainServer } from './pg-env.js';

// A front end (`pixsearch serve --db`: a read-only engine over the PostgreSQL catalog) follows what
// embedding workers commit after it started, without a restart.

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(here, '../../..');
const TSX = pathToFileURL(path.join(REPO, 'node_modules/tsx/dist/loader.mjs')).href;
const children: ChildProcess[] = [];

let dir: string;
let model: string;
let lite: ChildProcess | undefined;
let vectorUrl: string;
let plain: { url: string; stop(): Promise<void> };

/**
 * A server with pgvector in another process: this test's thread blocks on PostgreSQL (the
 * synchronous catalog), so an in-process PGlite would never answer.
 */
async function startVectorServer(): Promise<string> {
  if (externalUrl) return freshDatabase(externalUrl, 'front');
  const child = spawn(process.execPath, ['--conditions=@pixsearch/source', '--import', TSX, path.join(here, 'fixtures/pglite-proc.ts')], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  lite = child;
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the PGlite server exited (${code})`)));
  });
  return (JSON.parse(line) as { url: string }).url;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'pixsearch-front-'));
  [model, vectorUrl, plain] = await Promise.all([ensureTinyBundle(), startVectorServer(), plainServer()]);
}, 120_000);
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (lite && lite.exitCode === null) {
    const gone = new Promise((r) => lite!.once('exit', r));
    lite.kill('SIGTERM');
    await gone;
  }
  await plain?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** PNGs `from`..`from + n - 1` (distinct seeded colours) in `root`. */
async function writeImages(root: string, from: number, n: number): Promise<void> {
  await mkdir(root, { recursive: true });
  for (let i = from; i < from + n; i++) {
    const px = Buffer.alloc(16 * 16 * 3);
    for (let j = 0; j < px.length; j++) px[j] = (i * 37 + j * (i + 3)) % 256;
    await sharp(px, { raw: { width: 16, height: 16, channels: 3 } }).png().toFile(path.join(root, `img-${i}.png`));
  }
}

/** Runs a worker in this process until it has embedded `n` images (its progress is reported after each committed batch). */
async function embed(url: string, n: number): Promise<void> {
  const ac = new AbortController();
  const p = await runWorker({
    url,
    model,
    batchSize: 2,
    pollingIntervalSeconds: 0.5,
    signal: ac.signal,
    progress: (w) => {
      if (w.embedded >= n) ac.abort();
    },
  });
  expect(p.embedded).toBe(n);
}

/** An embedding worker process (test/fixtures/worker-proc.ts) until SIGTERM. */
function startWorker(url: string): ChildProcess {
  const child = spawn(process.execPath, ['--conditions=@pixsearch/source', '--import', TSX, path.join(here, 'fixtures/worker-proc.ts'), url, model, dir, 'worker'], {
    cwd: REPO,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}

/** Resolves at the first `changed` event whose index holds `size` vectors. */
function changedTo(engine: SearchEngine, size: number): Promise<void> {
  return new Promise((resolve) => {
    const on = (e: { indexSize: number }): void => {
      if (e.indexSize !== size) return;
      engine.off('changed', on);
      resolve();
    };
    engine.on('changed', on);
  });
}

const ids = (res: { results: { id: number }[] }): number[] => res.results.map((r) => r.id).sort((a, b) => a - b);

describe('front ends follow the workers', () => {
  it('a pgvector library: the front end searches the workers\' table (named in the catalog) and sees images embedded after it started', async () => {
    const url = vectorUrl;
    const root = path.join(dir, 'photos');
    await writeImages(root, 0, 4);
    expect(await scanLibrary({ url, roots: [root], model })).toMatchObject({ queued: 4 });
    // The scanner named the library's vector table in the catalog: every process finds the same one.
    const catalog = PostgresCatalog.open(url, { readOnly: true });
    try {
      expect(catalog.settings().remoteIndex).toMatchObject({ name: LIBRARY_INDEX_NAME, backend: 'pgvector', dimension: 32 });
      // The worker runs in a process of its own: with PGlite (one backend) a synchronous catalog call
      // in this thread must never wait on an async transaction of this same thread.
      const worker = startWorker(url);
      await waitFor('the worker to embed the first images', () => catalog.counts().indexed === 4);

      const frontDir = path.join(dir, 'front-pgvector');
      const front = await SearchEngine.open({ dataDir: frontDir, readOnly: true, catalog: PostgresCatalog.open(url, { readOnly: true }), connection: url, followIntervalMs: 50 });
      try {
        expect(await front.stats()).toMatchObject({ backend: 'pgvector', indexSize: 4 });
        const before = await front.search('a photo', { k: 20, threshold: -1 });
        expect(before.results).toHaveLength(4);

        // Three more images arrive, are scanned and embedded by a worker while the front end serves.
        // The front end follows by itself: its `changed` event says when the table holds all seven.
        const followed = changedTo(front, 7);
        await writeImages(root, 4, 3);
        expect(await scanLibrary({ url, roots: [root] })).toMatchObject({ queued: 3, unchanged: 4 });
        await followed;
        expect(await front.stats()).toMatchObject({ indexSize: 7 });
        worker.kill('SIGTERM');

        const all = [...catalog.embeddingPages()].flatMap((p) => p.ids).sort((a, b) => a - b);
        expect(all).toHaveLength(7);
        expect(ids(await front.search('a photo', { k: 20, threshold: -1 }))).toEqual(all);
        const newest = all[all.length - 1]!;
        expect(ids(await front.similar(newest, { k: 20, threshold: -1 }))).toEqual(all.filter((id) => id !== newest));
        // It kept nothing of its own: it searched the table the workers fill.
        expect(existsSync(path.join(frontDir, 'index', 'current.json'))).toBe(false);
        // Nothing changed since: a refresh costs one lookup and reports no change.
        expect(await front.refresh()).toBe(false);
      } finally {
        await front.close();
      }
    } finally {
      catalog.close();
    }
  }, 240_000);

  it('a writer keeps its remote index\'s name in the catalog, not in its data folder; readers and the next writer find it there', async () => {
    const root = path.join(dir, 'photos-writer');
    await writeImages(root, 20, 3);
    const dataDir = path.join(dir, 'writer');
    const opts = { dataDir, model, backend: 'pgvector', backendParams: { load: 'insert' }, connection: vectorUrl } as const;
    const writer = await SearchEngine.open({ ...opts, roots: [root] });
    let name: string;
    try {
      expect(await writer.sync()).toMatchObject({ embedded: 3 });
    } finally {
      await writer.close();
    }
    const { SqliteCatalog } = await import('@pixsearch/core/engine');
    const sqlite = SqliteCatalog.open(path.join(dataDir, 'catalog.db'), { readOnly: true });
    try {
      const rec = sqlite.settings().remoteIndex!;
      expect(rec).toMatchObject({ backend: 'pgvector', params: { load: 'insert' }, dimension: 32, marker: sqlite.marker() });
      name = rec.name;
      expect(name).toMatch(/^px_[0-9a-f]+_[0-9a-f]{8}$/);
    } finally {
      sqlite.close();
    }
    expect(existsSync(path.join(dataDir, 'index', 'current.json'))).toBe(false);
    // A reader searches that table; the next writer reopens it as it is (no rebuild, same name).
    const reader = await SearchEngine.open({ dataDir, readOnly: true, connection: vectorUrl });
    try {
      expect(await reader.stats()).toMatchObject({ backend: 'pgvector', indexSize: 3 });
      expect((await reader.search('a photo', { k: 10, threshold: -1 })).results).toHaveLength(3);
    } finally {
      await reader.close();
    }
    const again = await SearchEngine.open(opts);
    const warnings: string[] = [];
    again.on('warning', (w) => warnings.push(w));
    try {
      expect(await again.sync()).toMatchObject({ embedded: 0, unchanged: 3 });
    } finally {
      await again.close();
    }
    expect(warnings).toEqual([]);
    const after = SqliteCatalog.open(path.join(dataDir, 'catalog.db'), { readOnly: true });
    try {
      expect(after.settings().remoteIndex!.name).toBe(name);
    } finally {
      after.close();
    }
  }, 240_000);

  it('a library with a local backend (a server without pgvector): the in-memory index catches up from the catalog', async () => {
    const url = await freshDatabase(plain.url, 'front');
    const root = path.join(dir, 'photos-local');
    await writeImages(root, 10, 3);
    await scanLibrary({ url, roots: [root], model, backend: 'faiss-flat' });
    await embed(url, 3);
    const front = await SearchEngine.open({ dataDir: path.join(dir, 'front-local'), readOnly: true, catalog: PostgresCatalog.open(url, { readOnly: true }), followIntervalMs: 50 });
    try {
      expect(await front.stats()).toMatchObject({ backend: 'faiss-flat', indexSize: 3 });
      await writeImages(root, 13, 2);
      await scanLibrary({ url, roots: [root] });
      // The front end follows by itself (every 50 ms): wait for its `changed` event, then search.
      const followed = changedTo(front, 5);
      await embed(url, 2);
      await followed;
      expect((await front.search('a photo', { k: 20, threshold: -1 })).results).toHaveLength(5);
      expect(await front.refresh()).toBe(false);
    } finally {
      await front.close();
    }
  }, 240_000);
});
