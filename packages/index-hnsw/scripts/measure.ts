// Build time and single-query latency of both backends at default parameters.
// Run from packages/index-hnsw:
//   node --conditions=@pixsearch/source --import tsx scripts/measure.ts [n=100000] [dimension=512] [queries=200]
// Not a test: it prints a small table (and recall@10 against brute force on the same queries).
import { HnswlibIndex, UsearchIndex } from '../src/index.js';
import type { VectorIndex } from '@pixsearch/core';
import { mulberry32 } from '@pixsearch/core/datasets';

const [n = 100_000, d = 512, nq = 200] = process.argv.slice(2).map(Number);
const out = (s: string) => process.stdout.write(s + '\n');

/** Unit vectors around `clusters` random centres (Gaussian spread), like CLIP embeddings. */
function clustered(rows: number, clusters: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  const g = () => Math.sqrt(-2 * Math.log(r() || 1e-12)) * Math.cos(2 * Math.PI * r());
  const centres = new Float32Array(clusters * d).map(g);
  const v = new Float32Array(rows * d);
  for (let i = 0; i < rows; i++) {
    const c = Math.floor(r() * clusters);
    let s = 0;
    for (let j = 0; j < d; j++) s += (v[i * d + j] = centres[c * d + j]! + 0.8 * g()) ** 2;
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < d; j++) v[i * d + j]! *= inv;
  }
  return v;
}

const all = clustered(n + nq, Math.max(16, Math.round(Math.sqrt(n) / 2)), 42);
const base = all.subarray(0, n * d);
const queries = all.subarray(n * d);
const ids = Array.from({ length: n }, (_, i) => i);

out(`exact top-10 for ${nq} queries over ${n}×${d} (brute force)…`);
const truth: Set<number>[] = [];
for (let q = 0; q < nq; q++) {
  const scores = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += base[i * d + j]! * queries[q * d + j]!;
    scores[i] = s;
  }
  const top = Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]!);
  truth.push(new Set(top.slice(0, 10)));
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
async function measure(name: string, make: () => Promise<VectorIndex>): Promise<void> {
  const idx = await make();
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  for (let start = 0; start < n; start += 10_000) {
    const end = Math.min(n, start + 10_000);
    await idx.add(ids.slice(start, end), base.subarray(start * d, end * d));
  }
  const build = (performance.now() - t0) / 1000;
  const rss = (process.memoryUsage().rss - rss0) / 2 ** 20;
  const times: number[] = [];
  let hits = 0;
  for (let round = 0; round < 3; round++) {
    for (let q = 0; q < nq; q++) {
      const query = queries.subarray(q * d, (q + 1) * d);
      const t = performance.now();
      const [res] = await idx.search(query, 10);
      times.push(performance.now() - t);
      if (round === 0) hits += res!.ids.filter((id) => truth[q]!.has(id)).length;
    }
  }
  times.sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  out(
    `${name.padEnd(8)} build ${build.toFixed(1)} s (${(n / build).toFixed(0)} vec/s, +${rss.toFixed(0)} MiB RSS) | ` +
      `single query k=10: mean ${mean.toFixed(3)} ms, p50 ${pct(times, 50).toFixed(3)}, p95 ${pct(times, 95).toFixed(3)}, p99 ${pct(times, 99).toFixed(3)} ms ` +
      `(${(1000 / mean).toFixed(0)} QPS) | recall@10 ${(hits / (nq * 10)).toFixed(4)} | params ${JSON.stringify(idx.params)}`,
  );
  await idx.close();
}

await measure('hnswlib', () => HnswlibIndex.create(d, 'cosine'));
await measure('usearch', () => UsearchIndex.create(d, 'cosine'));
