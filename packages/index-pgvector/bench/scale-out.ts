// Scale-out measurements for docs/scale-out.md (prints a table, writes bench/results/*.json):
//  A. pgvector in PGlite (WASM, pgvector 0.8.7): load rate, HNSW build time and size, vector vs halfvec;
//  B. a real PostgreSQL 15 (throwaway cluster): binary COPY vs multi-row INSERT of (id, real[512]) rows;
//  C. embedding workers (tiny generated model, PostgreSQL 15 + pg-boss): images/s for 1 and 2 worker
//     processes vs the same embedder in-process, i.e. the queue's overhead.
// Usage: node --conditions=@pixsearch/source --import tsx bench/scale-out.ts [--n 5000] [--images 96]
import { execSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ClipEmbedder } from '@pixsearch/core/clip';
import { clusteredDataset, ensureTinyBundle } from '@pixsearch/core/testing';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import sharp from 'sharp';
import { PostgresCatalog } from '../src/catalog/index.js';
import { encodeCopyRows, PgvectorIndex } from '../src/index.js';
import { scanLibrary } from '../src/distributed/index.js';
import { startPgCluster, startPgliteServer } from '../src/testing/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg('n', 5000);
const DIM = 512;
const IMAGES = arg('images', 96);
const machine: { cpu: string; cores: number; loadBefore: number[]; node: string; loadAfter?: number[] } = {
  cpu: execSync("lscpu | grep 'Model name' | sed 's/.*: *//'").toString().trim(),
  cores: os.cpus().length,
  loadBefore: os.loadavg(),
  node: process.version,
};
const out: Record<string, unknown> = { benchmark: 'scale-out', started: new Date().toISOString(), machine, n: N, dim: DIM };
const secs = (t0: number) => (performance.now() - t0) / 1000;

// ---- A: pgvector in PGlite ----------------------------------------------------------------------
const data = clusteredDataset(N, DIM, 50, 1);
const ids = Array.from({ length: N }, (_, i) => i);
const lite = await startPgliteServer();
const a: Record<string, unknown> = {};
try {
  for (const type of ['vector', 'halfvec'] as const) {
    const idx = await PgvectorIndex.open({ name: `bench_${type}`, dimension: DIM, metric: 'cosine', params: { index: 'none', type }, connection: lite.url });
    let t0 = performance.now();
    await idx.add(ids, data.base);
    const loadS = secs(t0);
    const c = new pg.Client(lite.url);
    await c.connect();
    t0 = performance.now();
    await c.query(`CREATE INDEX bench_${type}_hnsw ON pixsearch.vectors_bench_${type} USING hnsw (embedding ${type}_ip_ops) WITH (m = 16, ef_construction = 64)`);
    const buildS = secs(t0);
    const size = (await c.query<{ t: string; i: string }>(`SELECT pg_table_size('pixsearch.vectors_bench_${type}') AS t, pg_relation_size('pixsearch.bench_${type}_hnsw') AS i`)).rows[0]!;
    await c.end();
    const q = data.queries.subarray(0, 50 * DIM);
    t0 = performance.now();
    await idx.search(q, 10);
    const searchMs = (secs(t0) * 1000) / 50;
    a[type] = { loadRowsPerSec: N / loadS, hnswBuildSeconds: buildS, tableMB: Number(size.t) / 2 ** 20, hnswMB: Number(size.i) / 2 ** 20, searchMsPerQuery: searchMs };
    await idx.close();
  }
} finally {
  await lite.stop();
}
out.pglite = a;

// ---- B and C: a real PostgreSQL 15 -------------------------------------------------------------
const cluster = await startPgCluster();
const tmp = mkdtempSync(path.join(os.tmpdir(), 'pixsearch-bench-'));
try {
  const c = new pg.Client(cluster.url);
  await c.connect();
  const rows = 20_000;
  const d2 = clusteredDataset(rows, DIM, 50, 2);
  const ids2 = Array.from({ length: rows }, (_, i) => i);
  await c.query('CREATE TABLE stage_copy (id bigint, v real[]); CREATE TABLE stage_insert (id bigint, v real[])');
  let t0 = performance.now();
  for (let s = 0; s < rows; s += 2000) {
    await pipeline(Readable.from([encodeCopyRows(ids2.slice(s, s + 2000), d2.base.subarray(s * DIM, (s + 2000) * DIM), DIM)]), c.query(copyFrom('COPY stage_copy (id, v) FROM STDIN (FORMAT binary)')));
  }
  const copyS = secs(t0);
  t0 = performance.now();
  for (let s = 0; s < rows; s += 2000) {
    const part = ids2.slice(s, s + 2000);
    const texts = part.map((_, i) => `{${Array.from(d2.base.subarray((s + i) * DIM, (s + i + 1) * DIM)).join(',')}}`);
    await c.query('INSERT INTO stage_insert SELECT * FROM unnest($1::bigint[], $2::text[]::real[][]) AS a(id, v)', [part, texts]).catch(async () => {
      await c.query('INSERT INTO stage_insert SELECT a.id, a.v::real[] FROM unnest($1::bigint[], $2::text[]) AS a(id, v)', [part, texts]);
    });
  }
  const insertS = secs(t0);
  await c.end();
  out.postgres15 = { rows, copyRowsPerSec: rows / copyS, insertRowsPerSec: rows / insertS, copyOverInsert: insertS / copyS };

  // C: workers.
  const model = await ensureTinyBundle();
  const root = path.join(tmp, 'photos');
  mkdirSync(root);
  for (let i = 0; i < IMAGES; i++) {
    const px = Buffer.alloc(64 * 64 * 3);
    for (let j = 0; j < px.length; j++) px[j] = (i * 131 + j * 7 + (j % 13) * i) % 256;
    await sharp(px, { raw: { width: 64, height: 64, channels: 3 } }).jpeg().toFile(path.join(root, `i${i}.jpg`));
  }
  const files = Array.from({ length: IMAGES }, (_, i) => path.join(root, `i${i}.jpg`));
  const e = await ClipEmbedder.create({ model });
  await e.embedImages(files.slice(0, 8));
  t0 = performance.now();
  for (let s = 0; s < IMAGES; s += 8) await e.embedImages(files.slice(s, s + 8));
  const inProcS = secs(t0);
  await e.close();
  const workerRuns: Record<string, number> = {};
  const TSX = pathToFileURL(path.resolve(here, '../../../node_modules/tsx/dist/loader.mjs')).href;
  for (const workers of [1, 2]) {
    const url = `${cluster.url.replace(/\/postgres$/, '')}/w${workers}`;
    const admin = new pg.Client(cluster.url);
    await admin.connect();
    await admin.query(`CREATE DATABASE w${workers}`);
    await admin.end();
    await scanLibrary({ url, roots: [root], model, backend: 'faiss-flat' });
    const catalog = PostgresCatalog.open(url, { readOnly: true });
    const procs = Array.from({ length: workers }, () =>
      spawn(process.execPath, ['--conditions=@pixsearch/source', '--import', TSX, path.join(here, '../test/fixtures/worker-proc.ts'), url, model, tmp, 'worker'], { stdio: 'ignore' }),
    );
    // Timed from the first committed image (model loading excluded) to the last.
    while (catalog.counts().indexed === 0) await new Promise((r) => setTimeout(r, 20));
    const first = catalog.counts().indexed;
    t0 = performance.now();
    while (catalog.counts().indexed < IMAGES) await new Promise((r) => setTimeout(r, 20));
    workerRuns[String(workers)] = (IMAGES - first) / secs(t0);
    for (const p of procs) p.kill('SIGTERM');
    catalog.close();
  }
  out.workers = { images: IMAGES, model: 'tiny (generated)', inProcessImgPerSec: IMAGES / inProcS, workerImgPerSec: workerRuns };
} finally {
  await cluster.stop();
  rmSync(tmp, { recursive: true, force: true });
}
machine.loadAfter = os.loadavg();

process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
mkdirSync(path.join(here, 'results'), { recursive: true });
writeFileSync(path.join(here, 'results', `scale-out-${out.started as string}.json`.replace(/:/g, '-')), `${JSON.stringify(out, null, 2)}\n`);
