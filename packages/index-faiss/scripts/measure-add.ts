// Measures faiss-flat add throughput (100k × 512 in bounded chunks) and the share of it spent
// converting Float32Array chunks into the number[] faiss-node requires; then exact single-query
// latency on the 100k index. Not a test.
//   node --conditions=@pixsearch/source --import tsx scripts/measure-add.ts [n] [d]
import { ChunkArray, rowsPerChunk } from '../src/faiss-convert.js';
import { FaissFlatIndex } from '../src/index.js';

const n = Number(process.argv[2] ?? 100_000);
const d = Number(process.argv[3] ?? 512);
let seed = 42;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296) * 2 - 1;
const base = new Float32Array(n * d);
for (let i = 0; i < base.length; i++) base[i] = rand();
for (let r = 0; r < n; r++) {
  let s = 0;
  for (let j = 0; j < d; j++) s += base[r * d + j]! ** 2;
  const inv = 1 / Math.sqrt(s);
  for (let j = 0; j < d; j++) base[r * d + j]! *= inv;
}
const ids = Array.from({ length: n }, (_, i) => i);

// 1. Conversion alone: the same chunks the adapter builds, without handing them to FAISS.
const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;
const step = rowsPerChunk(d);
const chunk = new ChunkArray();
let c = process.cpuUsage();
let t = performance.now();
let sink = 0;
for (let r = 0; r < n; r += step) sink += chunk.range(base, r * d, Math.min(n, r + step) * d).length;
const convMs = performance.now() - t;
const convCpu = cpuMs(process.cpuUsage(c));

// 2. The real add (conversion + faiss-node reading each element + FAISS copy + id map).
const idx = FaissFlatIndex.create({ dimension: d, metric: 'cosine' });
const rss0 = process.memoryUsage().rss;
c = process.cpuUsage();
t = performance.now();
await idx.add(ids, base);
const addMs = performance.now() - t;
const addCpu = cpuMs(process.cpuUsage(c));
const rss1 = process.memoryUsage().rss;

// 3. Exact single-query latency (one query at a time, k = 10).
const lat: number[] = [];
c = process.cpuUsage();
for (let i = 0; i < 25; i++) {
  const q = base.subarray(((i * 7919) % n) * d, (((i * 7919) % n) + 1) * d);
  const t0 = performance.now();
  await idx.search(q, 10);
  lat.push(performance.now() - t0);
}
const latCpu = cpuMs(process.cpuUsage(c)) / 25;
lat.sort((a, b) => a - b);
c = process.cpuUsage();
t = performance.now();
await idx.search(base.subarray(0, 100 * d), 10);
const batchMs = performance.now() - t;
const batchCpu = cpuMs(process.cpuUsage(c));
await idx.close();

console.log(`faiss-flat, ${n} × ${d}, chunks of ${step} rows (${step * d} floats); ${sink === n * d ? 'ok' : 'MISMATCH'}`);
console.log(`add: ${addMs.toFixed(0)} ms wall, ${addCpu.toFixed(0)} ms CPU = ${((n / addMs) * 1000).toFixed(0)} vectors/s; RSS +${((rss1 - rss0) / 2 ** 20).toFixed(0)} MiB`);
console.log(`  Float32Array → number[] conversion alone: ${convMs.toFixed(0)} ms wall, ${convCpu.toFixed(0)} ms CPU (${((100 * convCpu) / addCpu).toFixed(1)} % of the add's CPU)`);
console.log(`  rest (binding reads each element, FAISS copy, id map): ${(addCpu - convCpu).toFixed(0)} ms CPU`);
console.log(`exact search, 1 query, k=10: min ${lat[0]!.toFixed(1)} ms, median ${lat[12]!.toFixed(1)} ms, max ${lat[24]!.toFixed(1)} ms wall; ${latCpu.toFixed(1)} ms CPU/query (25 queries)`);
console.log(`exact search, batch of 100 queries, k=10: ${batchMs.toFixed(0)} ms wall (${(batchMs / 100).toFixed(2)} ms/query), ${batchCpu.toFixed(0)} ms CPU`);
