// Cost of PostgresCatalog's synchronous calls (node-postgres in a worker thread; the caller blocks
// with Atomics.wait) on loopback: p50/p99 per call, for the calls a front end makes while searching,
// against a library of --n rows with 512-d embeddings in a throwaway PostgreSQL 15 cluster.
// Usage: node --conditions=@pixsearch/source --import tsx bench/sync-catalog.ts [--n 50000] [--reps 300]
// Prints a table; writes bench/results/sync-catalog-<time>.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CatalogOp } from '@pixsearch/core/engine';
import pg from 'pg';
import { PostgresCatalog } from '../src/catalog/index.js';
import { startPgCluster } from '../src/testing/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg('n', 50_000);
const REPS = arg('reps', 300);
const DIM = 512;

const cluster = await startPgCluster();
try {
  const writer = PostgresCatalog.open(cluster.url);
  writer.updateSettings({ modelId: 'bench', modelSource: 'bench', dimension: DIM });
  const root = writer.addRoot('/photos');
  let seed = 1;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
  const t0 = performance.now();
  for (let i = 0; i < N; i += 1000) {
    const ops: CatalogOp[] = [];
    for (let j = i; j < Math.min(N, i + 1000); j++) {
      const v = new Float32Array(DIM).map(rnd);
      const norm = Math.hypot(...v);
      ops.push({
        op: 'insert',
        row: {
          rootId: root, relPath: `${j % 50}/img-${j}.jpg`, size: 1000 + j, mtimeMs: j, hash: `h${j}`, width: 640, height: 480,
          format: j % 3 ? 'jpeg' : 'png', status: 'indexed', reason: null, message: null, embedding: v.map((x) => x / norm),
          meta: { takenAt: 1.6e12 + j * 6e4, takenLocal: 1.6e12 + j * 6e4, takenOffset: 0, dateSource: 'exif-original', make: j % 2 ? 'FUJIFILM' : 'Canon', model: 'X', lens: null, latitude: null, longitude: null, orientation: 1 },
        },
      });
    }
    writer.write(ops);
  }
  const loadS = (performance.now() - t0) / 1000;
  writer.close();
  const c = new pg.Client(cluster.url);
  await c.connect();
  await c.query('VACUUM ANALYZE');
  await c.end();

  const cat = PostgresCatalog.open(cluster.url, { readOnly: true });
  const ids = [...cat.embeddingPages({ pageSize: 8192 })].flatMap((p) => p.ids);
  const pick = (k: number): number[] => Array.from({ length: k }, () => ids[Math.floor(Math.random() * ids.length)]!);
  const calls: [string, () => unknown][] = [
    ['generation() (follow poll; = 1 round trip)', () => cat.generation()],
    ['settings()', () => cat.settings()],
    ['roots()', () => cat.roots()],
    ['getEmbedding(id)', () => cat.getEmbedding(pick(1)[0]!)],
    ['getImages(30 ids) (a page of hits)', () => cat.getImages(pick(30))],
    ['getImages(300 ids)', () => cat.getImages(pick(300))],
    ['getImages(3000 ids)', () => cat.getImages(pick(3000))],
    ['orderByDate(3000 ids) (date sort)', () => cat.orderByDate(pick(3000), 'desc', 0, 30)],
    ['countMatching(format png) (filtered search)', () => cat.countMatching({ formats: ['png'] })],
    ['countMatching(none) (timeline total)', () => cat.countMatching(undefined)],
    ['matchingIds(format png) (count pass)', () => cat.matchingIds({ formats: ['png'] })],
    ['embeddingPages(4096) first page (exact scan)', () => cat.embeddingPages({ filter: { formats: ['png'] }, pageSize: 4096 }).next()],
    ['marker() (count + id sum)', () => cat.marker()],
    ['facets(none) (filter pickers)', () => cat.facets(undefined)],
  ];
  const rows: { call: string; p50: number; p99: number; max: number; reps: number }[] = [];
  for (const [name, fn] of calls) {
    const reps = name.startsWith('facets') || name.startsWith('matchingIds') || name.startsWith('embeddingPages') || name.startsWith('marker') || name.startsWith('countMatching') ? Math.min(REPS, 40) : REPS;
    fn();
    const t: number[] = [];
    for (let i = 0; i < reps; i++) {
      const s = performance.now();
      fn();
      t.push(performance.now() - s);
    }
    t.sort((a, b) => a - b);
    const q = (p: number): number => Number(t[Math.min(t.length - 1, Math.floor(p * t.length))]!.toFixed(3));
    rows.push({ call: name, p50: q(0.5), p99: q(0.99), max: Number(t[t.length - 1]!.toFixed(3)), reps });
  }
  cat.close();
  const env = { cpu: os.cpus()[0]?.model ?? '?', cores: os.cpus().length, load: os.loadavg().map((x) => Number(x.toFixed(2))), node: process.version, n: N, loadSeconds: Number(loadS.toFixed(1)) };
  const lines = [`n=${N} rows (512-d), ${env.cpu} × ${env.cores}, load ${env.load.join(' ')}, written in ${env.loadSeconds} s`, '| call | p50 ms | p99 ms | max ms | reps |', '|---|---|---|---|---|'];
  for (const r of rows) lines.push(`| ${r.call} | ${r.p50} | ${r.p99} | ${r.max} | ${r.reps} |`);
  process.stdout.write(`${lines.join('\n')}\n`);
  mkdirSync(path.join(here, 'results'), { recursive: true });
  writeFileSync(path.join(here, 'results', `sync-catalog-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}.json`), JSON.stringify({ env, rows }, null, 2) + '\n');
} finally {
  await cluster.stop();
}
