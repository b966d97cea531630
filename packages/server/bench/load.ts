/* eslint-disable no-console -- a benchmark script reports on the terminal */
// Load benchmark of the HTTP server (not a test): serves a library of N vectors (default 100k:
// a few real images synced through the engine, the rest synthetic CLIP-like embeddings written
// through the engine's catalog, then indexed by the engine) and drives GET /api/search with
// autocannon at several connection counts, once per model.
//
//   pnpm --filter @pixsearch/server bench:load [--presets tiny,vit-b-32] [--connections 1,10,50]
//     [--duration 10] [--vectors 100000] [--bundle <vit-b-32 bundle folder>] [--search-concurrency 1]
//     [--out <file.json>] [--seed-only]
//
// The server runs in a child process (its own event loop); autocannon runs here. Seeded data and
// the generated vit-b-32 bundle (~830 MB) are cached under <repo>/.cache/ (gitignored).
import { fork, type ChildProcess } from 'node:child_process';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import '@pixsearch/index-faiss';
import { CATALOG_FILE, SearchEngine, SqliteCatalog, type ImageRowData } from '@pixsearch/core/engine';
import { GENERATOR_VERSION, generateBundle, type BundlePreset } from '@pixsearch/core/model-generator';
import { clusterModel, ensureTinyBundle, sampleClusters, writeTestLibrary } from '@pixsearch/core/testing';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');
const cacheDir = path.join(repo, '.cache', 'server-load');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const presets = arg('presets', 'tiny,vit-b-32').split(',') as BundlePreset[];
const connections = arg('connections', '1,10,50').split(',').map(Number);
const duration = Number(arg('duration', '10'));
const vectors = Number(arg('vectors', '100000'));
const searchConcurrency = Number(arg('search-concurrency', '1'));
const out = arg('out', path.join(repo, 'artifacts', 'bench', 'server-load.json'));
const seedOnly = process.argv.includes('--seed-only');

const QUERIES = [
  'a dog playing on the beach', 'sunset over mountains', 'a red car in the city', 'birthday cake', 'people hiking in the snow',
  'a cat sleeping on a sofa', 'night sky with stars', 'a bowl of ramen', 'children playing football', 'an old bridge over a river',
  'a laptop on a wooden desk', 'flowers in a vase', 'a crowded train station', 'waves crashing on rocks', 'a plate of pasta',
  'a wedding ceremony', 'foggy forest path', 'a yellow taxi', 'mountain lake reflection', 'a bicycle leaning against a wall',
  '"beach" + "sunset" - "people"', '2:"snow" + "mountain"', 'a portrait of an old man', 'autumn leaves', 'a city skyline at night',
];

async function modelFor(preset: BundlePreset): Promise<string> {
  if (preset === 'tiny') return ensureTinyBundle();
  const given = arg('bundle', '');
  if (given) return path.resolve(given);
  const dir = path.join(repo, '.cache', 'models', `${preset}-v${GENERATOR_VERSION}`);
  try {
    await stat(path.join(dir, 'config.json'));
  } catch {
    console.log(`generating the ${preset} bundle into ${dir} (~830 MB)…`);
    await generateBundle({ preset, out: dir });
  }
  return dir;
}

/** A data directory holding `vectors` indexed images for `model` (built once, then reused). */
async function seededLibrary(preset: BundlePreset, model: string): Promise<string> {
  const base = path.join(cacheDir, `${preset}-v${GENERATOR_VERSION}-${vectors}`);
  const dataDir = path.join(base, 'data');
  const marker = path.join(base, 'seeded');
  try {
    await stat(marker);
    // Reuse it only if this engine version still reads it (the schema may have changed).
    const check = SqliteCatalog.open(path.join(dataDir, CATALOG_FILE), { readOnly: true });
    try {
      if (check.counts().indexed === vectors && check.getEmbedding(check.embeddingPages({ pageSize: 1 }).next().value?.ids[0] ?? -1)) return dataDir;
    } finally {
      check.close();
    }
  } catch {
    // build below
  }
  await rm(base, { recursive: true, force: true });
  const images = path.join(base, 'images');
  const real = 24;
  console.log(`seeding ${vectors} vectors for ${preset} into ${dataDir}…`);
  await writeTestLibrary(images, real);
  const engine = await SearchEngine.open({ dataDir, roots: [images], model });
  await engine.sync();
  await engine.close();

  const catalog = SqliteCatalog.open(path.join(dataDir, CATALOG_FILE));
  try {
    const dim = catalog.settings().dimension!;
    const rootId = catalog.roots()[0]!.id;
    const synthetic = vectors - catalog.counts().indexed;
    const clusters = clusterModel(dim, 256, 7);
    const chunk = 5000;
    for (let start = 0; start < synthetic; start += chunk) {
      const n = Math.min(chunk, synthetic - start);
      const vecs = sampleClusters(clusters, n, 1000 + start);
      const ops = Array.from({ length: n }, (_, i) => {
        const k = start + i;
        const row: ImageRowData = {
          rootId,
          relPath: `synthetic/${String(Math.floor(k / 1000)).padStart(3, '0')}/img-${String(k).padStart(6, '0')}.jpg`,
          size: 100_000 + (k % 5000),
          mtimeMs: 1_700_000_000_000 + k,
          hash: k.toString(16).padStart(64, '0'),
          width: 640 + (k % 7) * 32,
          height: 480,
          format: 'jpeg',
          status: 'indexed',
          reason: null,
          message: null,
          embedding: vecs.slice(i * dim, (i + 1) * dim),
        };
        return { op: 'insert' as const, row };
      });
      catalog.write(ops);
    }
  } finally {
    catalog.close();
  }
  // Opening the engine rebuilds the index from the stored embeddings and saves it.
  const reopened = await SearchEngine.open({ dataDir, model });
  const size = (await reopened.stats()).indexSize;
  await reopened.close();
  if (size !== vectors) throw new Error(`seeded index holds ${size} vectors, expected ${vectors}`);
  await writeFile(marker, new Date().toISOString());
  return dataDir;
}

interface Ready {
  url: string;
  indexSize: number;
  model: string;
  dimension: number;
  backend: string;
}

function startChild(dataDir: string, model: string): Promise<{ child: ChildProcess; ready: Ready }> {
  const child = fork(path.join(here, 'load-server.ts'), [dataDir, model, String(searchConcurrency)], {
    execArgv: ['--conditions=@pixsearch/source', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    const early = (code: number | null) => reject(new Error(`the server exited with ${code} before it was ready`));
    child.once('exit', early);
    child.on('message', (m: { type: string } & Ready) => {
      if (m.type !== 'ready') return;
      child.off('exit', early);
      resolve({ child, ready: m });
    });
  });
}

function ask<T>(child: ChildProcess, type: string, reply: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: { type: string }) => {
      if (m.type === reply) {
        child.off('message', on);
        resolve(m as T);
      }
    };
    child.on('message', on);
    child.send({ type });
  });
}

function drive(url: string, conns: number, seconds: number): Promise<autocannon.Result> {
  const requests = QUERIES.map((q) => ({ method: 'GET' as const, path: `/api/search?q=${encodeURIComponent(q)}&k=30&threshold=-1` }));
  return autocannon({ url, connections: conns, duration: seconds, requests, timeout: 30 });
}

interface Row {
  model: string;
  dimension: number;
  vectors: number;
  connections: number;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
  non2xx: number;
  timeouts: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

const rows: Row[] = [];
for (const preset of presets) {
  const model = await modelFor(preset);
  const dataDir = await seededLibrary(preset, model);
  if (seedOnly) continue;
  const { child, ready } = await startChild(dataDir, model);
  try {
    console.log(`\n${preset}: ${ready.indexSize} vectors (dim ${ready.dimension}, ${ready.backend}) at ${ready.url}`);
    await drive(ready.url, 10, 3); // warm-up
    for (const c of connections) {
      await ask(child, 'reset', 'reset-done');
      const r = await drive(ready.url, c, duration);
      const loop = await ask<{ p99: number; max: number }>(child, 'loop', 'loop');
      const row: Row = {
        model: preset,
        dimension: ready.dimension,
        vectors: ready.indexSize,
        connections: c,
        requestsPerSec: r.requests.average,
        p50Ms: r.latency.p50,
        p99Ms: r.latency.p99,
        requests: r.requests.total,
        errors: r.errors,
        non2xx: r.non2xx,
        timeouts: r.timeouts,
        loopDelayP99Ms: loop.p99,
        loopDelayMaxMs: loop.max,
      };
      rows.push(row);
      console.log(`  ${c} connections: ${row.requestsPerSec.toFixed(1)} req/s, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms, errors ${row.errors + row.non2xx}`);
    }
  } finally {
    const exited = new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
    child.send({ type: 'stop' });
    await exited;
  }
}

if (seedOnly) {
  console.log('seeded; run again without --seed-only to measure');
  process.exit(0);
}

const header = ['model', 'vectors', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'loop p99 ms'];
const table = rows.map((r) => [
  `${r.model} (${r.dimension}-d)`,
  String(r.vectors),
  String(r.connections),
  r.requestsPerSec.toFixed(1),
  String(r.p50Ms),
  String(r.p99Ms),
  String(r.errors + r.non2xx + r.timeouts),
  r.loopDelayP99Ms.toFixed(1),
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log(`\nGET /api/search, k=30, ${duration} s per run, search concurrency ${searchConcurrency}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'})`);
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const row of table) console.log(line(row));
await mkdir(path.dirname(out), { recursive: true });
await writeFile(out, JSON.stringify({ date: new Date().toISOString(), cores: os.cpus().length, cpu: os.cpus()[0]?.model, duration, searchConcurrency, rows }, null, 2));
console.log(`\nwrote ${out}`);
const failed = rows.some((r) => r.errors + r.non2xx + r.timeouts > 0);
process.exit(failed ? 1 : 0);
