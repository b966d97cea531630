import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ClipEmbedder } from '@pixsearch/core/clip';
import { QUEUED_REASON } from '@pixsearch/core/engine';
import { ensureTinyBundle, writeTestImages } from '@pixsearch/core/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresCatalog } from '../src/catalog/index.js';
import { scanLibrary } from '../src/distributed/index.js';
import { waitFor } from '../src/testing/index.js';
import { freshDatabase, plainServer } from './pg-env.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(here, '../../..');
const TSX = pathToFileURL(path.join(REPO, 'node_modules/tsx/dist/loader.mjs')).href;
const WORKER = path.join(here, 'fixtures/worker-proc.ts');

let server: { url: string; stop(): Promise<void> };
let dir: string;
let model: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  server = await plainServer();
  dir = mkdtempSync(path.join(tmpdir(), 'pixsearch-dist-'));
  model = await ensureTinyBundle();
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** `n` small distinct PNGs (seeded pictures), plus one corrupt file and one text file. */
async function makeLibrary(root: string, n: number): Promise<string[]> {
  const names = Array.from({ length: n }, (_, i) => `${i % 2 ? 'sub/' : ''}img-${i}.png`);
  await writeTestImages(root, names, { width: 16, height: 16 });
  await writeFile(path.join(root, 'broken.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
  await writeFile(path.join(root, 'notes.png'), 'not an image');
  return names;
}

function startWorker(url: string, role: string, hookDir: string): ChildProcess {
  const child = spawn(process.execPath, ['--conditions=@pixsearch/source', '--import', TSX, WORKER, url, model, hookDir, role], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.on('exit', (code) => {
    if (code !== 0 && code !== null) process.stderr.write(`worker (${role}) exited ${code}: ${err}\n`);
  });
  children.push(child);
  return child;
}

const exited = (c: ChildProcess) => new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once('exit', () => resolve())));

describe('one library, many machines', () => {
  it('three workers embed a scanned library; one killed with kill -9 mid-job loses and doubles nothing', async () => {
    const url = await freshDatabase(server.url, 'dist');
    const root = path.join(dir, 'photos');
    const names = await makeLibrary(root, 24);
    const hookDir = path.join(dir, 'hooks');
    await mkdir(hookDir, { recursive: true });

    const phases = new Set<string>();
    // Jobs of a dead worker expire after 3 s (pg-boss maintenance runs every second in the workers).
    const summary = await scanLibrary({ url, roots: [root], model, backend: 'faiss-flat', queue: { expireInSeconds: 3 }, progress: (p) => phases.add(p.phase) });
    // The scan skips what it can tell from the header, as on one machine; the rest (and the
    // truncated JPEG, whose header looks fine) is queued for the workers.
    expect(summary).toMatchObject({ queued: 25, skipped: 1, embedded: 0 });
    expect(summary.skippedFiles.map((s) => [s.path, s.reason])).toEqual([['notes.png', 'not-an-image']]);
    expect(phases).toContain('done');

    // The victim claims the first batch and blocks before committing; then two more workers start.
    const victim = startWorker(url, 'victim', hookDir);
    const claimed = await waitFor('the victim to claim a batch', () => existsSync(path.join(hookDir, 'victim.json')) && (JSON.parse(readFileSync(path.join(hookDir, 'victim.json'), 'utf8')) as number[]));
    expect(claimed.length).toBeGreaterThan(0);
    const others = [startWorker(url, 'worker', hookDir), startWorker(url, 'worker', hookDir)];
    victim.kill('SIGKILL');
    await exited(victim);
    expect(victim.signalCode).toBe('SIGKILL');

    const catalog = PostgresCatalog.open(url, { readOnly: true });
    try {
      // The victim's jobs expire and are retried by the others.
      await waitFor('every image to be embedded', () => catalog.counts().indexed === 24 && catalog.counts().skipped === 2);
      for (const c of others) c.kill('SIGTERM');
      await Promise.all(others.map(exited));
      expect(others.map((c) => c.exitCode)).toEqual([0, 0]);

      await waitFor('the broken file to be recorded', () => catalog.counts().skipped === 2);
      expect(catalog.counts()).toEqual({ indexed: 24, skipped: 2, failed: 0 });
      // A worker records decode failures with the reason the embedder gives, as a local sync does.
      expect(catalog.problems().map((p) => [p.relPath, p.reason])).toEqual([
        ['broken.jpg', 'truncated'],
        ['notes.png', 'not-an-image'],
      ]);
      expect(catalog.problems().every((p) => p.reason !== QUEUED_REASON)).toBe(true);
      const db = new pg.Client(url);
      await db.connect();
      try {
        // One row and one embedding per file: nothing doubled.
        const rows = await db.query<{ n: string; d: string }>('SELECT count(*) AS n, count(DISTINCT (root_id, rel_path)) AS d FROM pixsearch.images');
        expect(rows.rows[0]).toEqual({ n: '26', d: '26' });
        expect((await db.query<{ n: string }>('SELECT count(*) AS n FROM pixsearch.embeddings')).rows[0]!.n).toBe('24');
        // The victim's jobs were retried (at least one failed attempt), and every job completed.
        const jobs = await db.query<{ state: string; n: string }>("SELECT state, count(*) AS n FROM pixsearch_jobs.job WHERE name = 'pixsearch-embed' GROUP BY state");
        expect(Object.fromEntries(jobs.rows.map((r) => [r.state, Number(r.n)]))).toEqual({ completed: 25 });
        const retried = await db.query<{ n: string }>("SELECT count(*) AS n FROM pixsearch_jobs.job WHERE name = 'pixsearch-embed' AND retry_count > 0 AND (data->>'imageId')::bigint = ANY($1::bigint[])", [claimed]);
        expect(Number(retried.rows[0]!.n)).toBe(claimed.length);
      } finally {
        await db.end();
      }
      // The stored embeddings are what this machine computes for the same files.
      const e = await ClipEmbedder.create({ model });
      try {
        const ids = [...catalog.embeddingPages()].flatMap((p) => p.ids);
        const images = catalog.getImages(ids);
        const files = ids.map((id) => path.join(root, images.get(id)!.relPath));
        const local = await e.embedImages(files);
        ids.forEach((id, i) => {
          const stored = catalog.getEmbedding(id)!;
          for (let j = 0; j < stored.length; j++) expect(stored[j]).toBeCloseTo(local.vectors[i * stored.length + j]!, 4);
        });
        expect(names.length).toBe(ids.length);
      } finally {
        await e.close();
      }

      // A front end reads the library: a read-only engine over the PostgreSQL catalog builds its
      // index from the stored embeddings (no model run) and answers from it.
      const { SearchEngine } = await import('@pixsearch/core/engine');
      const front = await SearchEngine.open({ dataDir: path.join(dir, 'front-end'), readOnly: true, catalog: PostgresCatalog.open(url, { readOnly: true }) });
      try {
        const someId = [...catalog.embeddingPages()][0]!.ids[3]!;
        const res = await front.similar(someId, { k: 5, threshold: -1 });
        expect(res.results).toHaveLength(5);
        expect(res.results.map((r) => r.id)).not.toContain(someId);
        expect((await front.stats()).images.indexed).toBe(24);
      } finally {
        await front.close();
      }

      // A second scan finds nothing to do.
      const again = await scanLibrary({ url, roots: [root] });
      expect(again).toMatchObject({ queued: 0, added: 0, updated: 0, removed: 0, unchanged: 24 });
    } finally {
      catalog.close();
    }
  }, 240_000);
});
