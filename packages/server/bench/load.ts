/* eslint-disable no-console -- a benchmark script reports on the terminal */
// Load benchmark of the HTTP server (not a test): serves a library of N vectors (default 100k:
// a few real images synced through the engine, the rest synthetic CLIP-like embeddings written
// through the engine's catalog, then indexed by the engine) and drives GET /api/search with
// autocannon at several connection counts, once per model, search concurrency and mode:
//
// - `uncached`: every request a query text never sent before (a counter in the text), so each one
//   runs the text tower — what a server answering many people sees;
// - `cached`: 25 query texts over and over, so the server's query-embedding cache answers after
//   the first round (what one person going back and forth sees).
//
//   pnpm --filter @pixsearch/server bench:load [--presets tiny,vit-b-32] [--connections 1,10,50]
//     [--duration 10] [--vectors 100000] [--bundle <vit-b-32 bundle folder>]
//     [--configs 1:0,8:default] [--modes uncached,cached] [--out <file.json>] [--seed-only]
//
// A config is `<search concurrency>:<text-tower threads>[:<backend>]` (threads `default`, or 0 =
// one per core; backend `auto` by default, parameters after slashes: `exact/quantization=i8`,
// the index is rebuilt from the catalog when it changes): the default pair is the server as it
// was (one query at a time, the text tower on every core) and as it is (8 queries at once,
// micro-batched, one text-tower thread).
//
// Reported per run: req/s, latency, errors, the server's event-loop delay (p50/p99/max), its CPU
// time per request (all its threads) split by thread group (main thread + pools, index shard
// workers, text tower: see load-server.ts), its main thread's busy time per request, the engine's
// stage times per query (embed = waiting + text tower, search = waiting + index scan, catalog),
// the client's CPU per request and the CPU-bound ceiling (cores × 1000 / (server + client CPU
// ms per request): what the cores could serve with nothing else running, the figure that survives
// a shared machine), the CPU model and the load average before and after, and each config's ratio to the first one
// in the same run. The server runs in a child
// process (its own event loop); autocannon runs here. Seeded data and the generated vit-b-32
// bundle (~830 MB) are cached under <repo>/.cache/ (gitignored).
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
const configs = arg('configs', '1:0,8:default')
  .split(',')
  .map((c) => {
    const [conc, textThreads = 'default', backend = 'auto'] = c.split(':');
    return { searchConcurrency: Number(conc), textThreads, backend };
  });
const modes = arg('modes', 'uncached,cached').split(',') as Mode[];
const out = arg('out', path.join(repo, 'artifacts', 'bench', 'server-load.json'));
const seedOnly = process.argv.includes('--seed-only');

type Mode = 'uncached' | 'cached';

/** The `cached` mode's texts, sent in turn. */
const QUERIES = [
  'a dog playing on the beach', 'sunset over mountains', 'a red car in the city', 'birthday cake', 'people hiking in the snow',
  'a cat sleeping on a sofa', 'night sky with stars', 'a bowl of ramen', 'children playing football', 'an old bridge over a river',
  'a laptop on a wooden desk', 'flowers in a vase', 'a crowded train station', 'waves crashing on rocks', 'a plate of pasta',
  'a wedding ceremony', 'foggy forest path', 'a yellow taxi', 'mountain lake reflection', 'a bicycle leaning against a wall',
  '"beach" + "sunset" - "people"', '2:"snow" + "mountain"', 'a portrait of an old man', 'autumn leaves', 'a city skyline at night',
];

const SUBJECTS = ['a dog', 'two cats', 'a red car', 'an old man', 'children', 'a bicycle', 'a bowl of soup', 'a sailboat', 'a horse', 'a wooden bridge', 'a city bus', 'a lighthouse'];
const SCENES = ['on the beach', 'in the snow', 'at night', 'in a forest', 'on a busy street', 'under a blue sky', 'by a lake', 'in the kitchen', 'at sunset', 'in the rain'];
let served = 0;
/**
 * The `uncached` mode's texts: a different one for every request of the whole run (warm-ups
 * included), shaped like real queries (6–10 tokens); every tenth combines two terms.
 */
function uniqueQuery(): string {
  const n = served++;
  const text = `${SUBJECTS[n % SUBJECTS.length]} ${SCENES[Math.floor(n / SUBJECTS.length) % SCENES.length]} photo ${n}`;
  return n % 10 === 9 ? `"${text}" + "${SCENES[n % SCENES.length]}"` : text;
}

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

function startChild(dataDir: string, model: string, config: (typeof configs)[number]): Promise<{ child: ChildProcess; ready: Ready }> {
  const child = fork(path.join(here, 'load-server.ts'), [dataDir, model, String(config.searchConcurrency), config.textThreads, config.backend], {
    // LOAD_CPU_PROF=<folder>: V8 CPU profiles of the server's threads, for finding where time goes.
    execArgv: ['--conditions=@pixsearch/source', '--import', 'tsx', ...(process.env.LOAD_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.LOAD_CPU_PROF] : [])],
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

const searchPath = (q: string) => `/api/search?q=${encodeURIComponent(q)}&k=30&threshold=-1`;

function drive(url: string, conns: number, seconds: number, mode: Mode): Promise<autocannon.Result> {
  const requests =
    mode === 'cached'
      ? QUERIES.map((q) => ({ method: 'GET' as const, path: searchPath(q) }))
      : [{ method: 'GET' as const, setupRequest: (req: autocannon.Request) => ({ ...req, path: searchPath(uniqueQuery()) }) }];
  return autocannon({ url, connections: conns, duration: seconds, requests, timeout: 30 });
}

interface Report {
  loop: { p50: number; p99: number; max: number };
  cpuMs: number;
  mainThreadBusyMs: number;
  stages: { n: number; embed: number; search: number; catalog: number; total: number };
  /** CPU ms of the server's threads over the run, by when they started (see load-server.ts). */
  threadCpuMs: Record<string, number>;
}

interface Row {
  model: string;
  dimension: number;
  vectors: number;
  backend: string;
  mode: Mode;
  searchConcurrency: number;
  textThreads: string;
  connections: number;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
  non2xx: number;
  timeouts: number;
  loopDelayP50Ms: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** Server process CPU time (all threads) per answered request. */
  serverCpuMsPerRequest: number;
  /** CPU time of this process (autocannon, the client) per answered request. */
  clientCpuMsPerRequest: number;
  /**
   * Requests per second this machine's cores could serve if server and client had them to
   * themselves: cores × 1000 / (server + client CPU ms per request). A ceiling computed from the
   * CPU time measured under whatever else ran, not a measured rate.
   */
  cpuBoundReqPerSec: number;
  /** Server main-thread busy time (HTTP, validation, catalog rows, JSON) per answered request. */
  mainThreadMsPerRequest: number;
  /**
   * CPU time per answered request by thread group: `boot` = the main thread (HTTP, validation,
   * catalog rows, JSON), V8's helpers (GC) and the libuv/libvips pools; `open` = the index's shard
   * workers (the scan); `first-search` = the text tower (Linux only).
   */
  cpuMsPerRequestByThreads: Record<string, number>;
  /** Engine stage means per query, ms of wall time (waiting included). */
  embedMs: number;
  searchMs: number;
  catalogMs: number;
  engineMs: number;
  /** Load average (1 min) before and after the run. */
  loadBefore: number;
  loadAfter: number;
}

const rows: Row[] = [];
for (const preset of presets) {
  const model = await modelFor(preset);
  const dataDir = await seededLibrary(preset, model);
  if (seedOnly) continue;
  for (const config of configs) {
    const { searchConcurrency, textThreads } = config;
    const { child, ready } = await startChild(dataDir, model, config);
    try {
      console.log(`\n${preset}: ${ready.indexSize} vectors (dim ${ready.dimension}, ${ready.backend}) at ${ready.url}, search concurrency ${searchConcurrency}, text-tower threads ${textThreads}`);
      await drive(ready.url, 10, 3, 'uncached'); // warm-up
      for (const mode of modes) {
        if (mode === 'cached') await drive(ready.url, 10, 2, 'cached'); // fill the cache
        for (const c of connections) {
          await ask(child, 'reset', 'reset-done');
          const loadBefore = os.loadavg()[0]!;
          const client0 = process.cpuUsage();
          const r = await drive(ready.url, c, duration, mode);
          const client = process.cpuUsage(client0);
          const rep = await ask<Report>(child, 'report', 'report');
          const answered = Math.max(1, r.requests.total);
          const per = (x: number) => (rep.stages.n > 0 ? x / rep.stages.n : 0);
          const row: Row = {
            model: preset,
            dimension: ready.dimension,
            vectors: ready.indexSize,
            backend: config.backend,
            mode,
            searchConcurrency,
            textThreads,
            connections: c,
            requestsPerSec: r.requests.average,
            p50Ms: r.latency.p50,
            p99Ms: r.latency.p99,
            requests: r.requests.total,
            errors: r.errors,
            non2xx: r.non2xx,
            timeouts: r.timeouts,
            loopDelayP50Ms: rep.loop.p50,
            loopDelayP99Ms: rep.loop.p99,
            loopDelayMaxMs: rep.loop.max,
            serverCpuMsPerRequest: rep.cpuMs / answered,
            clientCpuMsPerRequest: (client.user + client.system) / 1000 / answered,
            cpuBoundReqPerSec: (os.cpus().length * 1000) / ((rep.cpuMs + (client.user + client.system) / 1000) / answered),
            mainThreadMsPerRequest: rep.mainThreadBusyMs / answered,
            cpuMsPerRequestByThreads: Object.fromEntries(Object.entries(rep.threadCpuMs).map(([k, ms]) => [k, ms / answered])),
            embedMs: per(rep.stages.embed),
            searchMs: per(rep.stages.search),
            catalogMs: per(rep.stages.catalog),
            engineMs: per(rep.stages.total),
            loadBefore,
            loadAfter: os.loadavg()[0]!,
          };
          rows.push(row);
          console.log(
            `  ${mode}, ${c} connections: ${row.requestsPerSec.toFixed(1)} req/s, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms, errors ${row.errors + row.non2xx + row.timeouts}, ` +
              `CPU-bound ceiling ${row.cpuBoundReqPerSec.toFixed(0)} req/s, client CPU ${row.clientCpuMsPerRequest.toFixed(2)} ms/req, ` +
              `server CPU ${row.serverCpuMsPerRequest.toFixed(2)} ms/req (main thread ${row.mainThreadMsPerRequest.toFixed(2)}, ` +
              `by threads ${Object.entries(row.cpuMsPerRequestByThreads).map(([ph, ms]) => `${ph} ${ms.toFixed(2)}`).join(', ')}), ` +
              `engine embed ${row.embedMs.toFixed(1)} + search ${row.searchMs.toFixed(1)} + catalog ${row.catalogMs.toFixed(2)} ms, ` +
              `loop p50/p99/max ${rep.loop.p50.toFixed(1)}/${rep.loop.p99.toFixed(1)}/${rep.loop.max.toFixed(1)} ms, load ${loadBefore.toFixed(2)}→${row.loadAfter.toFixed(2)}`,
          );
        }
      }
    } finally {
      const exited = new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
      child.send({ type: 'stop' });
      await exited;
    }
  }
}

if (seedOnly) {
  console.log('seeded; run again without --seed-only to measure');
  process.exit(0);
}

const header = ['model', 'vectors', 'backend', 'mode', 'search conc.', 'text thr.', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'CPU ms/req', 'ceiling req/s', 'main ms/req', 'embed ms', 'search ms', 'loop p50/p99/max ms', 'load'];
const table = rows.map((r) => [
  `${r.model} (${r.dimension}-d)`,
  String(r.vectors),
  r.backend,
  r.mode,
  String(r.searchConcurrency),
  r.textThreads,
  String(r.connections),
  r.requestsPerSec.toFixed(1),
  String(r.p50Ms),
  String(r.p99Ms),
  String(r.errors + r.non2xx + r.timeouts),
  r.serverCpuMsPerRequest.toFixed(2),
  r.cpuBoundReqPerSec.toFixed(0),
  r.mainThreadMsPerRequest.toFixed(2),
  r.embedMs.toFixed(1),
  r.searchMs.toFixed(1),
  `${r.loopDelayP50Ms.toFixed(1)}/${r.loopDelayP99Ms.toFixed(1)}/${r.loopDelayMaxMs.toFixed(1)}`,
  `${r.loadBefore.toFixed(2)}→${r.loadAfter.toFixed(2)}`,
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
const cpu = os.cpus()[0]?.model ?? '?';
console.log(`\nGET /api/search, k=30, ${duration} s per run, ${os.cpus().length} cores (${cpu})`);
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const row of table) console.log(line(row));
// In-run ratios: each config against the first one, per model, mode and connection count.
const base = configs[0]!;
const same = (r: Row, c: (typeof configs)[number]) => r.searchConcurrency === c.searchConcurrency && r.textThreads === c.textThreads && r.backend === c.backend;
for (const r of rows) {
  if (same(r, base)) continue;
  const b = rows.find((x) => x.model === r.model && x.mode === r.mode && x.connections === r.connections && same(x, base));
  if (b) {
    console.log(
      `${r.model} ${r.mode} ${r.connections} conns: ${r.searchConcurrency}:${r.textThreads}:${r.backend} vs ${base.searchConcurrency}:${base.textThreads}:${base.backend}: ` +
        `${(r.requestsPerSec / b.requestsPerSec).toFixed(2)}× req/s, ${(r.serverCpuMsPerRequest / b.serverCpuMsPerRequest).toFixed(2)}× CPU per request`,
    );
  }
}
await mkdir(path.dirname(out), { recursive: true });
await writeFile(
  out,
  JSON.stringify({ date: new Date().toISOString(), cores: os.cpus().length, cpu, loadavg: os.loadavg(), duration, configs, modes, rows }, null, 2),
);
console.log(`\nwrote ${out}`);
const failed = rows.some((r) => r.errors + r.non2xx + r.timeouts > 0);
process.exit(failed ? 1 : 0);
