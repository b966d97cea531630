/**
 * Near-duplicate search (`engine.duplicates()`) on a synthetic library of `n` images: the
 * CLIP-shaped synthetic vectors (datasets/synthetic.ts) as stored embeddings, with planted
 * near-duplicates (1% of the images get a copy: the vector plus small noise, cosine ≈ 0.97–0.99)
 * and exact copies (0.5%: same hash, same vector). Writes the rows straight into a catalog, opens
 * the engine (which builds the index from them), then times `duplicates()` and checks that the
 * planted pairs were found. Also times one query with and without the exact-total counting pass.
 *
 *   pnpm --filter @pixsearch/benchmarks exec node --conditions=@pixsearch/source --import tsx \
 *     src/duplicates/run.ts [--n 100000] [--backend faiss-flat|hnswlib] [--out results/duplicates-100k.json]
 */
import { rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import '@pixsearch/index-faiss';
import '@pixsearch/index-hnsw';
import type { Embedder } from '@pixsearch/core';
import { mulberry32 } from '@pixsearch/core/datasets';
import { SearchEngine } from '@pixsearch/core/engine';
import { writeSyntheticLibrary } from '@pixsearch/core/testing';
import { syntheticSet } from '../datasets/synthetic.js';
import { cpuModel } from '../machine.js';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const n = Number(arg('n', '100000'));
const backend = arg('backend', 'faiss-flat');
const out = arg('out', '');
const dim = 512;

const cpu = cpuModel();
const log = (s: string): void => console.log(s);
log(`duplicates benchmark: n=${n} backend=${backend} dim=${dim} | ${cpu} | load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);

const dir = path.join(tmpdir(), `pixsearch-dups-bench-${n}-${backend}`);
rmSync(dir, { recursive: true, force: true });

// Base vectors: n − planted copies; the copies follow.
const rnd = mulberry32(7);
const nearCount = Math.floor(n * 0.01);
const exactCount = Math.floor(n * 0.005);
const baseCount = n - nearCount - exactCount;
let t = performance.now();
const base = syntheticSet({ n: baseCount, queries: 1, dimension: dim, seed: 3 }, 'base');
log(`  synthetic vectors: ${((performance.now() - t) / 1000).toFixed(1)} s`);
const vectors = new Float32Array(n * dim);
vectors.set(base);
const planted: [number, number, 'near' | 'exact'][] = [];
const gauss = (): number => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
for (let c = 0; c < nearCount + exactCount; c++) {
  const src = Math.floor(rnd() * baseCount);
  const row = baseCount + c;
  const exact = c >= nearCount;
  let norm = 0;
  for (let j = 0; j < dim; j++) {
    const v = base[src * dim + j]! + (exact ? 0 : 0.2 * gauss() / Math.sqrt(dim));
    vectors[row * dim + j] = v;
    norm += v * v;
  }
  norm = Math.sqrt(norm);
  for (let j = 0; j < dim; j++) vectors[row * dim + j]! /= norm;
  planted.push([src, row, exact ? 'exact' : 'near']);
}

const modelId = 'bench/synthetic-512';
t = performance.now();
const hashes: string[] = Array.from({ length: n }, (_, i) => `h${i}`);
for (const [src, row, kind] of planted) if (kind === 'exact') hashes[row] = hashes[src]!;
await writeSyntheticLibrary({ dataDir: dir, vectors, dimension: dim, modelId, backend, hash: (i) => hashes[i]! });
const writeMs = performance.now() - t;
log(`  catalog rows: ${(writeMs / 1000).toFixed(1)} s`);

const stub: Embedder = {
  modelId,
  dimension: dim,
  embedImages: () => Promise.reject(new Error('not used')),
  embedTexts: () => Promise.reject(new Error('not used')),
  close: () => Promise.resolve(),
};
t = performance.now();
const engine = await SearchEngine.open({ dataDir: dir, embedder: stub, backend: backend as never });
const openMs = performance.now() - t;
log(`  engine open (index build): ${(openMs / 1000).toFixed(1)} s`);

try {
  const cpu0 = process.cpuUsage();
  t = performance.now();
  const report = await engine.duplicates({ threshold: 0.95 });
  const dupMs = performance.now() - t;
  const cpuUse = process.cpuUsage(cpu0);
  const cpuMs = (cpuUse.user + cpuUse.system) / 1000;
  // Which planted pairs ended up in one group?
  const groupOf = new Map<number, number>();
  report.groups.forEach((g, i) => g.images.forEach((m) => groupOf.set(m.id, i)));
  // Catalog ids are 1-based in insertion order.
  const found = planted.filter(([a, b]) => groupOf.get(a + 1) !== undefined && groupOf.get(a + 1) === groupOf.get(b + 1));
  const foundNear = found.filter((p) => p[2] === 'near').length;
  const foundExact = found.filter((p) => p[2] === 'exact').length;
  const sizes = report.groups.map((g) => g.images.length);
  const maxGroup = Math.max(0, ...sizes);
  log(
    `  duplicates(): ${(dupMs / 1000).toFixed(1)} s wall, ${(cpuMs / 1000).toFixed(1)} s CPU (${(cpuMs / n).toFixed(3)} CPU-ms/image); ` +
      `${report.groups.length} groups (largest ${maxGroup}); planted found: near ${foundNear}/${nearCount}, exact ${foundExact}/${exactCount}`,
  );

  // One query: exact total (counting pass over the whole index) vs the page alone.
  const q = vectors.slice(0, dim);
  const ids = [1];
  void q;
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await engine.moreLike([ids[0]! + i], { k: 30, threshold: 0.1 });
    times.push(r.timings.total);
  }
  times.sort((a, b) => a - b);
  const withTotal = times[2]!;
  const times2: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await engine.moreLike([ids[0]! + i], { k: 30, threshold: 0.999 });
    times2.push(r.timings.total);
  }
  times2.sort((a, b) => a - b);
  log(`  moreLike k=30: threshold 0.1 (every image passes: counting pass over ${n}) median ${withTotal.toFixed(1)} ms; threshold 0.999 (no pass needed) median ${times2[2]!.toFixed(1)} ms`);

  const result = {
    n,
    backend,
    dim,
    cpu,
    loadavg: loadavg(),
    catalogWriteMs: writeMs,
    openMs,
    duplicatesMs: dupMs,
    duplicatesCpuMs: cpuMs,
    cpuMsPerImage: cpuMs / n,
    groups: report.groups.length,
    largestGroup: maxGroup,
    planted: { near: nearCount, exact: exactCount, foundNear, foundExact },
    queryWithCountingPassMs: withTotal,
    queryWithoutCountingPassMs: times2[2],
  };
  if (out) writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
} finally {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
}
