/**
 * Exact-scan benchmark (not a test): the `exact` backend's single-query latency against the
 * memory-bandwidth floor measured in the same run, plus its i8 kind (recall against f32 and
 * speed) and the faiss-flat path it replaces.
 *
 *   pnpm --filter @pixsearch/benchmarks exact-scan [--n 100000] [--d 512] [--queries 40] [--reps 15] [--out FILE]
 *
 * The floor: every core reads the index's bytes once, natively — W worker threads (W = cores),
 * each `Buffer.compare`s two copies of its share (so the W workers together read n × d × 4
 * bytes), started together at a barrier; the floor is the slowest worker's time. Floor and
 * scan samples are interleaved so load changes hit both alike; the ratio is scan p50 / floor p50.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { createIndex, registerBackend, type VectorIndex } from '@pixsearch/core';
import { clusteredDataset, recallAtK } from '@pixsearch/core/datasets';
import { backends as faissBackends } from '@pixsearch/index-faiss';
import { backends as hnswBackends, ExactIndex } from '@pixsearch/index-hnsw';
import { machineInfo } from '../machine.js';
import { percentile } from '../metrics.js';

registerBackend(...faissBackends, ...hnswBackends);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const n = Number(arg('n', '100000'));
const d = Number(arg('d', '512'));
const nq = Number(arg('queries', '40'));
const reps = Number(arg('reps', '15'));
const here = path.dirname(fileURLToPath(import.meta.url));
const out = arg('out', path.resolve(here, '../../results', `exact-scan-${new Date().toISOString().replace(/[:.]/g, '-')}.json`));
const W = os.availableParallelism();

const FLOOR_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { bytes, barrier, d, addon } = workerData;
const a = Buffer.alloc(bytes, 7);
for (let i = 0; i < bytes; i += 4096) a[i] = i & 255;
const b = Buffer.from(a);
// The same kernel the exact backend calls, on this worker's share of rows, with no messaging.
const kernel = require(addon.nodeGypBuild)(addon.root);
const rows = new Float32Array((2 * bytes) / 4);
for (let i = 0; i < rows.length; i++) rows[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
const q = new Float32Array(d).fill(0.01);
const flag = new Int32Array(barrier);
parentPort.on('message', ({ op, round, workers, barrier }) => {
  if (barrier) {
    Atomics.add(flag, 0, 1);
    while (Atomics.load(flag, 0) < round * workers) {}
  }
  const t = performance.now();
  if (op === 'floor') Buffer.compare(a, b);
  else kernel.exactSearch(rows, q, d, 10, 'ip', 1);
  parentPort.postMessage({ ms: performance.now() - t });
});
parentPort.postMessage('ready');
`;

/** W workers each reading `total / W` bytes, started together at a barrier. */
class Floor {
  private readonly workers: Worker[] = [];
  private readonly barrier = new SharedArrayBuffer(4);
  private round = 0;
  static async start(totalBytes: number): Promise<Floor> {
    const f = new Floor();
    const share = Math.ceil(totalBytes / W / 2 / (4 * d)) * 4 * d; // two copies of half a share; whole rows
    const req = createRequire(import.meta.url);
    const entry = req.resolve('usearch');
    const addon = { nodeGypBuild: createRequire(entry).resolve('node-gyp-build'), root: path.resolve(path.dirname(entry), '..', '..', '..') };
    for (let i = 0; i < W; i++) f.workers.push(new Worker(FLOOR_WORKER, { eval: true, workerData: { bytes: share, barrier: f.barrier, d, addon } }));
    await Promise.all(f.workers.map((w) => new Promise((r) => w.once('message', r))));
    return f;
  }
  /**
   * Slowest worker's time, ms: `floor` = Buffer.compare of its two copies, `kernel` = exactSearch
   * over its rows; all workers start together at a barrier (no dispatch cost).
   */
  async sample(op: 'floor' | 'kernel' = 'floor'): Promise<number> {
    this.round++;
    const times = await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<number>((resolve) => {
            w.once('message', (m: { ms: number }) => resolve(m.ms));
            w.postMessage({ op, round: this.round, workers: W, barrier: true });
          }),
      ),
    );
    return Math.max(...times);
  }

  /**
   * The floor dispatched like a search: posted from the main thread to every worker, wall time
   * until the last reply, and the CPU time all threads spent (ms).
   */
  async dispatched(): Promise<{ wall: number; cpu: number }> {
    const c = process.cpuUsage();
    const t = performance.now();
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            w.once('message', () => resolve());
            w.postMessage({ op: 'floor', barrier: false });
          }),
      ),
    );
    const wall = performance.now() - t;
    const u = process.cpuUsage(c);
    return { wall, cpu: (u.user + u.system) / 1000 };
  }
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Wall ms per query; CPU ms of all threads per query go to `cpu`. */
async function timeQueries(index: VectorIndex, queries: Float32Array, count: number, from: number, cpu: number[] = []): Promise<number[]> {
  const ms: number[] = [];
  for (let q = 0; q < count; q++) {
    const i = (from + q) % nq;
    const c = process.cpuUsage();
    const t = performance.now();
    await index.search(queries.subarray(i * d, (i + 1) * d), 10);
    ms.push(performance.now() - t);
    const u = process.cpuUsage(c);
    cpu.push((u.user + u.system) / 1000);
  }
  return ms;
}

const p50 = (v: number[]) => percentile(v, 50);
const fmt = (v: number, digits = 2) => v.toFixed(digits);

async function main(): Promise<void> {
  const machine = machineInfo();
  const loadBefore = os.loadavg();
  console.log(`exact scan: ${n.toLocaleString('en-US')} × ${d} f32, ${nq} queries, ${reps} interleaved rounds; ${machine.cpu}, ${W} cores, load ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`);
  const data = clusteredDataset(n, d, nq, 7);
  const ids = Array.from({ length: n }, (_, i) => i);
  const bytes = n * d * 4;

  const floor = await Floor.start(bytes);
  const f32 = await ExactIndex.create(d, 'cosine', {});
  const i8 = await ExactIndex.create(d, 'cosine', { quantization: 'i8' });
  await f32.add(ids, data.base);
  await i8.add(ids, data.base);
  const floorMs: number[] = [];
  const kernelMs: number[] = [];
  const dispatchMs: number[] = [];
  const floorCpu: number[] = [];
  const f32Ms: number[] = [];
  const f32Cpu: number[] = [];
  const i8Ms: number[] = [];
  const i8Cpu: number[] = [];
  const perRound = Math.max(1, Math.ceil(nq / reps));
  // Warm up each path once.
  await floor.sample();
  await timeQueries(f32, data.queries, 2, 0);
  await timeQueries(i8, data.queries, 2, 0);
  for (let r = 0; r < reps; r++) {
    floorMs.push(await floor.sample());
    kernelMs.push(await floor.sample('kernel'));
    const disp = await floor.dispatched();
    dispatchMs.push(disp.wall);
    floorCpu.push(disp.cpu);
    f32Ms.push(...(await timeQueries(f32, data.queries, perRound, r * perRound, f32Cpu)));
    floorMs.push(await floor.sample());
    i8Ms.push(...(await timeQueries(i8, data.queries, perRound, r * perRound, i8Cpu)));
  }
  // Recall of the i8 kind against the f32 scan (which is exact), k = 10.
  const truth = await f32.search(data.queries, 10);
  const got = await i8.search(data.queries, 10);
  const i8Recall = recallAtK(got, truth, 10);
  let sameIds = 0;
  for (let q = 0; q < nq; q++) if (JSON.stringify(got[q]!.ids) === JSON.stringify(truth[q]!.ids)) sameIds++;
  await f32.close();
  await i8.close();
  await floor.close();

  // The path exact replaces: faiss-flat (Debian FAISS, SSE, one thread per query).
  const flat = await createIndex({ backend: 'faiss-flat', dimension: d });
  await flat.add(ids, data.base);
  const flatCpu: number[] = [];
  const flatMs = await timeQueries(flat, data.queries, Math.min(10, nq), 0, flatCpu);
  await flat.close();
  const loadAfter = os.loadavg();

  const floorP50 = p50(floorMs);
  const dispatchP50 = p50(dispatchMs);
  const floorCpuP50 = p50(floorCpu);
  const rows = [
    { path: 'memory floor: all cores Buffer.compare, started at a barrier', bytes, p50: floorP50, p90: percentile(floorMs, 90), cpu: NaN },
    { path: 'memory floor dispatched like a search (post → compare → reply)', bytes, p50: dispatchP50, p90: percentile(dispatchMs, 90), cpu: floorCpuP50 },
    { path: 'USearch exactSearch alone in the same workers, barrier-started', bytes, p50: p50(kernelMs), p90: percentile(kernelMs, 90), cpu: NaN },
    { path: 'exact backend f32: search() wall time', bytes, p50: p50(f32Ms), p90: percentile(f32Ms, 90), cpu: p50(f32Cpu) },
    { path: 'exact backend i8 scan + f32 re-rank: search()', bytes: n * d, p50: p50(i8Ms), p90: percentile(i8Ms, 90), cpu: p50(i8Cpu) },
    { path: 'faiss-flat (previous default): search()', bytes, p50: p50(flatMs), p90: percentile(flatMs, 90), cpu: p50(flatCpu) },
  ];
  console.log(`\n| path | bytes scanned | p50 ms | p90 ms | GB/s (p50) | × floor | × dispatched floor | CPU ms p50 (all threads) | × floor CPU |`);
  console.log(`| --- | --- | --- | --- | --- | --- | --- | --- | --- |`);
  for (const r of rows) {
    const cpu = Number.isNaN(r.cpu) ? '–' : fmt(r.cpu);
    const cpuRatio = Number.isNaN(r.cpu) ? '–' : fmt(r.cpu / floorCpuP50);
    console.log(`| ${r.path} | ${(r.bytes / 1e6).toFixed(0)} MB | ${fmt(r.p50)} | ${fmt(r.p90)} | ${fmt(r.bytes / r.p50 / 1e6, 1)} | ${fmt(r.p50 / floorP50)} | ${fmt(r.p50 / dispatchP50)} | ${cpu} | ${cpuRatio} |`);
  }
  console.log(`\ni8 kind: recall@10 vs f32 = ${i8Recall.toFixed(4)}; identical top-10 lists ${sameIds}/${nq}`);
  console.log(`CPU ${machine.cpu}, ${W} cores; load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify(
      {
        kind: 'exact-scan',
        date: new Date().toISOString(),
        command: `pnpm --filter @pixsearch/benchmarks exact-scan ${process.argv.slice(2).join(' ')}`.trim(),
        machine: { ...machine, loadBefore, loadAfter },
        n,
        dimension: d,
        queries: nq,
        reps,
        rows,
        i8: { recallAt10: i8Recall, identicalTop10: sameIds },
        samples: { floorMs, kernelMs, dispatchMs, floorCpu, f32Ms, f32Cpu, i8Ms, i8Cpu, flatMs, flatCpu },
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`wrote ${out}`);
}

await main();
