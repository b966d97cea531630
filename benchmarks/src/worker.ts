/**
 * Child-process entry: runs one job and writes its JSON result. The runner starts one process
 * per job so that peak RSS is per backend and a native abort (FAISS, hnswlib) loses one job, not
 * the suite. Single-query jobs run with OMP_NUM_THREADS=1 (set by the runner before FAISS loads).
 *
 *     node --expose-gc worker.js <job.json> <result.json>
 */
import { readdirSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { createIndex, writeFileAtomic, type SearchParams, type VectorIndex } from '@pixsearch/core';
import { adapterFactory, loadAdapterIndex, registerAdapters } from './adapters.js';
import { runEngineQuery } from './engine-query/engine-query.js';
import { bareDriver } from './backends/index.js';
import type { BareIndex, BenchConfig, SweepPoint } from './backends/types.js';
import { loadDataset, loadGroundTruth, saveGroundTruth, type Dataset, type GroundTruth } from './datasets/store.js';
import { exactGroundTruth } from './ground-truth.js';
import { timeBatch, timeSingle, type TimingBudget } from './measure.js';
import { collectGarbage, peakRssBytes, recallAtK, recallFigures, rssBytes, spreadOf, summarizeLatencies, type RecallFigures } from './metrics.js';
import type { BareBuildJobResult, BuildJobResult, ConnectivityResult, OverheadResult, PointResult, PrepareJobResult, SingleJobResult } from './results.js';

/** Repetition/time limits of a measuring job. */
export interface JobBudget {
  reps: number;
  /** Per sweep point, seconds. */
  budgetS: number;
  /** Queries used for timing (≤ the dataset's). */
  queries: number;
}

export type Job =
  | { kind: 'prepare'; datasetDir: string; gtK: number }
  | { kind: 'bare-build'; datasetDir: string; config: BenchConfig; bareFile: string; reps: number }
  | { kind: 'build'; datasetDir: string; config: BenchConfig; indexDir: string; bareFile?: string; budget: JobBudget }
  | { kind: 'single'; datasetDir: string; config: BenchConfig; indexDir: string; bareFile?: string; budget: JobBudget }
  | { kind: 'engine'; datasetDir: string; bundleDir: string; libraryDir: string; backend: string; queries: number; k: number };

const K = 10;
const K_DEEP = 100;

function log(msg: string): void {
  process.stdout.write(`${msg}\n`);
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir)) {
    const p = path.join(dir, entry);
    const s = statSync(p);
    total += s.isDirectory() ? dirBytes(p) : s.size;
  }
  return total;
}

function paramsOf(p: SearchParams): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(p)) if (typeof v === 'number') out[k] = v;
  return out;
}

interface Ctx {
  ds: Dataset;
  gt: GroundTruth;
  d: number;
  nq: number;
}

function loadCtx(datasetDir: string, maxQueries?: number): Ctx {
  const ds = loadDataset(datasetDir);
  const gt = loadGroundTruth(datasetDir, ds.info);
  if (!gt) throw new Error(`no ground truth for ${ds.info.name}: run the prepare job first`);
  const d = ds.info.dimension;
  const nq = Math.min(ds.info.nq, maxQueries ?? Infinity);
  return { ds, gt, d, nq };
}

function recall(ctx: Ctx, results: ArrayLike<ArrayLike<number>>, k: number): number {
  return recallAtK(results, ctx.gt, ctx.ds.base, ctx.ds.queries, ctx.d, k);
}

/**
 * The results for every query of the set: `timed` covers the first queries (timing may stop
 * early on a slow point); the rest are searched untimed in one call with the same parameters, so
 * every recall figure of a run is computed over the same full query set.
 */
async function completeResults(ctx: Ctx, timed: ArrayLike<number>[], index: VectorIndex, k: number, params: SearchParams): Promise<ArrayLike<number>[]> {
  if (timed.length >= ctx.nq) return timed.slice(0, ctx.nq);
  const rest = ctx.ds.queries.subarray(timed.length * ctx.d, ctx.nq * ctx.d);
  return [...timed, ...idsOf(await index.search(rest, k, params))];
}

/** Every recall figure (ann-benchmarks and strict, with the per-query distribution) of full-set results. */
function figures(ctx: Ctx, results: ArrayLike<ArrayLike<number>>): RecallFigures {
  return recallFigures(results, ctx.gt, ctx.ds.base, ctx.ds.queries, ctx.d);
}

function recallFields(f: RecallFigures): { recall1: number; recall10: number; strict1: number; strict10: number; hist10: number[]; recallQueries: number } {
  return { recall1: f.recall1, recall10: f.recall10, strict1: f.strict1, strict10: f.strict10, hist10: f.hist10, recallQueries: f.queries };
}

function queryRow(ctx: Ctx, i: number): Float32Array {
  return ctx.ds.queries.subarray(i * ctx.d, (i + 1) * ctx.d);
}

function allQueries(ctx: Ctx): Float32Array {
  return ctx.ds.queries.subarray(0, ctx.nq * ctx.d);
}

function timingBudget(b: JobBudget): TimingBudget {
  return { reps: b.reps, budgetMs: b.budgetS * 1000, minQueries: Math.min(100, b.queries) };
}

const idsOf = (res: { ids: number[] }[]): number[][] => res.map((r) => r.ids);

/** A few untimed queries so one-time work (nprobe switch, page faults) is not timed. */
async function warmAdapter(ctx: Ctx, index: VectorIndex, params: SearchParams): Promise<void> {
  for (let i = 0; i < Math.min(10, ctx.nq); i++) await index.search(queryRow(ctx, i), K, params);
}

async function singlePoint(ctx: Ctx, index: VectorIndex, point: SweepPoint, budget: JobBudget): Promise<PointResult> {
  collectGarbage();
  await warmAdapter(ctx, index, point.params);
  const t = await timeSingle(ctx.nq, async (i) => (await index.search(queryRow(ctx, i), K, point.params))[0]!.ids, timingBudget(budget), true);
  const all = await completeResults(ctx, t.results, index, K, point.params);
  return {
    label: point.label,
    params: paramsOf(point.params),
    single: {
      queries: t.queries,
      reps: t.reps,
      qps: (t.queries / t.bestMs) * 1000,
      latencyMs: summarizeLatencies(t.latenciesMs),
      ...recallFields(figures(ctx, all)),
    },
  };
}

/**
 * Queries to time in batch mode: all of them, unless a probe batch says that would not fit the
 * time budget (exact search over 1M); then as many as fit, at least min(nq, 100).
 */
async function batchSize(ctx: Ctx, run: (q: Float32Array) => Promise<unknown>, budget: JobBudget): Promise<number> {
  const probe = Math.min(ctx.nq, 50);
  const t = performance.now();
  await run(ctx.ds.queries.subarray(0, probe * ctx.d));
  const perQuery = (performance.now() - t) / probe;
  const fit = Math.floor((budget.budgetS * 1000) / Math.max(1, budget.reps) / Math.max(perQuery, 1e-6));
  return Math.max(Math.min(ctx.nq, 100), Math.min(ctx.nq, fit));
}

async function batchPoint(ctx: Ctx, index: VectorIndex, point: SweepPoint, budget: JobBudget): Promise<PointResult> {
  collectGarbage();
  await warmAdapter(ctx, index, point.params);
  const nq = await batchSize(ctx, (q) => index.search(q, K, point.params), budget);
  const q = allQueries({ ...ctx, nq });
  const t = await timeBatch(async () => idsOf(await index.search(q, K, point.params)), { reps: budget.reps, budgetMs: budget.budgetS * 1000 });
  const all = await completeResults(ctx, t.results, index, K, point.params);
  // k = 100 over the full set, timed once.
  const t0 = performance.now();
  const deep = idsOf(await index.search(allQueries(ctx), K_DEEP, point.params));
  const deepMs = performance.now() - t0;
  return {
    label: point.label,
    params: paramsOf(point.params),
    batch: {
      queries: nq,
      reps: t.reps,
      qps: (nq / t.bestMs) * 1000,
      ...recallFields(figures(ctx, all)),
      recall100: recall(ctx, deep, K_DEEP),
      qps100: (ctx.nq / deepMs) * 1000,
    },
  };
}

/**
 * An overhead figure from interleaved repetitions: `ratios[r]` is adapter ÷ bare time of
 * repetition r, `adapterMs`/`bareMs` their per-query times; each is reported as its median, the
 * ratio with its spread.
 */
function pairedOverhead(mode: 'single' | 'batch', point: SweepPoint, ratios: number[], adapterMs: number[], bareMs: number[]): OverheadResult {
  const spread = spreadOf(ratios);
  return { mode, point: point.label, adapterMs: spreadOf(adapterMs).median, bareMs: spreadOf(bareMs).median, ratio: spread.median, ratioSpread: spread };
}

/**
 * Adapter vs bare in single-query mode. The two alternate query by query (so both see the same
 * machine state); each repetition sums both over the same queries and gives one ratio; the
 * result is the median ratio with its spread (not best-of: a shared machine makes minima lie).
 */
async function overheadSingle(ctx: Ctx, index: VectorIndex, bare: BareIndex, point: SweepPoint, budget: JobBudget): Promise<OverheadResult> {
  collectGarbage();
  await warmAdapter(ctx, index, point.params);
  for (let i = 0; i < Math.min(10, ctx.nq); i++) bare.searchOne(queryRow(ctx, i), K);
  const reps = Math.max(5, budget.reps);
  const ratios: number[] = [];
  const adapterTotals: number[] = [];
  const bareTotals: number[] = [];
  const adapterRes: ArrayLike<number>[] = [];
  const bareRes: ArrayLike<number>[] = [];
  const started = performance.now();
  let nq = ctx.nq;
  for (let rep = 0; rep < reps; rep++) {
    let a = 0;
    let b = 0;
    for (let i = 0; i < nq; i++) {
      const q = queryRow(ctx, i);
      let t = performance.now();
      adapterRes[i] = (await index.search(q, K, point.params))[0]!.ids;
      a += performance.now() - t;
      t = performance.now();
      bareRes[i] = bare.searchOne(q, K);
      b += performance.now() - t;
      if (rep === 0 && i + 1 >= Math.min(100, ctx.nq) && performance.now() - started > budget.budgetS * 1000) {
        nq = i + 1;
        break;
      }
    }
    ratios.push(a / b);
    adapterTotals.push(a / nq);
    bareTotals.push(b / nq);
    // At least three repetitions for a median; more while the budget allows.
    if (rep >= 2 && performance.now() - started > budget.budgetS * 1000 * 3) break;
  }
  return {
    ...pairedOverhead('single', point, ratios, adapterTotals, bareTotals),
    adapterRecall10: recall(ctx, adapterRes.slice(0, nq), K),
    bareRecall10: recall(ctx, bareRes.slice(0, nq), K),
  };
}

async function overheadBatch(full: Ctx, index: VectorIndex, bare: BareIndex, point: SweepPoint, budget: JobBudget): Promise<OverheadResult> {
  collectGarbage();
  await warmAdapter(full, index, point.params);
  const ctx: Ctx = { ...full, nq: await batchSize(full, async (x) => bare.searchBatch(x, K), budget) };
  const q = allQueries(ctx);
  const ratios: number[] = [];
  const adapterTimes: number[] = [];
  const bareTimes: number[] = [];
  let adapterRes: ArrayLike<number>[] = [];
  let bareRes: ArrayLike<number>[] = [];
  const reps = Math.max(5, budget.reps * 2);
  const started = performance.now();
  for (let rep = 0; rep < reps; rep++) {
    if (rep > 2 && performance.now() - started > budget.budgetS * 1000) break;
    // Alternate who goes first, so neither always runs on a warmer cache.
    const adapterFirst = rep % 2 === 0;
    let a = 0;
    let b = 0;
    for (const who of adapterFirst ? ['adapter', 'bare'] : ['bare', 'adapter']) {
      const t = performance.now();
      if (who === 'adapter') {
        adapterRes = idsOf(await index.search(q, K, point.params));
        a = performance.now() - t;
      } else {
        bareRes = bare.searchBatch(q, K);
        b = performance.now() - t;
      }
    }
    ratios.push(a / b);
    adapterTimes.push(a / ctx.nq);
    bareTimes.push(b / ctx.nq);
  }
  return {
    ...pairedOverhead('batch', point, ratios, adapterTimes, bareTimes),
    adapterRecall10: recall(ctx, adapterRes, K),
    bareRecall10: recall(ctx, bareRes, K),
  };
}

async function runPrepare(job: Extract<Job, { kind: 'prepare' }>): Promise<PrepareJobResult> {
  const ds = loadDataset(job.datasetDir);
  const cached = loadGroundTruth(job.datasetDir, ds.info);
  if (cached && cached.k >= Math.min(job.gtK, ds.info.n)) {
    return { info: ds.info, gtK: cached.k, groundTruthMs: 0, peakRssBytes: peakRssBytes() };
  }
  const t = performance.now();
  const gt = exactGroundTruth(ds.base, ds.queries, ds.info.dimension, job.gtK);
  const ms = performance.now() - t;
  await saveGroundTruth(job.datasetDir, gt);
  return { info: ds.info, gtK: gt.k, groundTruthMs: ms, peakRssBytes: peakRssBytes() };
}

/** One adapter build (+ IVF training) from the dataset, ms; the index is closed. */
async function timeAdapterBuild(config: BenchConfig, base: Float32Array, d: number): Promise<number> {
  const n = base.length / d;
  const t0 = performance.now();
  const index = await createIndex({ backend: config.backend, dimension: d, metric: 'cosine', params: config.build });
  const ids = new Float64Array(n);
  for (let i = 0; i < n; i++) ids[i] = i;
  await index.add(ids, base);
  const trainable = index as VectorIndex & { train?: () => Promise<void> };
  if (typeof trainable.train === 'function') await trainable.train();
  const ms = performance.now() - t0;
  await index.close();
  return ms;
}

/**
 * Bare-library builds, alternated with adapter builds in this one process (`reps` of each, who
 * goes first alternating), so the build overhead is a like-for-like median with its spread.
 * The last bare index is saved for the search-overhead comparison.
 */
async function runBareBuild(job: Extract<Job, { kind: 'bare-build' }>): Promise<BareBuildJobResult> {
  const ds = loadDataset(job.datasetDir);
  const d = ds.info.dimension;
  const driver = bareDriver(job.config.backend);
  const reps = Math.max(1, job.reps);
  const bareMs: number[] = [];
  const adapterMs: number[] = [];
  let last: { index: BareIndex; times: BareBuildJobResult['times'] } | undefined;
  for (let rep = 0; rep < reps; rep++) {
    const order = rep % 2 === 0 ? (['bare', 'adapter'] as const) : (['adapter', 'bare'] as const);
    for (const who of order) {
      collectGarbage();
      if (who === 'adapter') {
        adapterMs.push(await timeAdapterBuild(job.config, ds.base, d));
        continue;
      }
      last?.index.close();
      const t = performance.now();
      last = driver.build(job.config, ds.base, d);
      bareMs.push(performance.now() - t);
    }
  }
  const { index, times } = last!;
  await rm(job.bareFile, { force: true });
  driver.save(index, job.bareFile);
  const diskBytes = statSync(job.bareFile).size;
  index.close();
  const ratios = adapterMs.map((a, i) => a / bareMs[i]!);
  const spread = spreadOf(ratios);
  const totalMs = spreadOf(bareMs).median;
  log(`  bare build ${(totalMs / 1000).toFixed(1)} s (convert ${(times.convertMs / 1000).toFixed(1)}, train ${(times.trainMs / 1000).toFixed(1)}, add ${(times.addMs / 1000).toFixed(1)}); build overhead ×${spread.median.toFixed(3)} over ${reps} interleaved rep(s)`);
  return {
    library: driver.library,
    times,
    totalMs,
    diskBytes,
    peakRssBytes: peakRssBytes(),
    overhead: { mode: 'build', point: 'build', adapterMs: spreadOf(adapterMs).median, bareMs: totalMs, ratio: spread.median, ratioSpread: spread },
  };
}

/** The search parameter that widens an HNSW search, by backend; undefined for non-graph indexes. */
function widenParams(backend: string, ef: number): SearchParams | undefined {
  if (backend === 'hnswlib') return { efSearch: ef };
  if (backend === 'usearch') return { expansion: ef };
  return undefined;
}

/** Base vectors searched by the connectivity check (all up to this many, else an even sample). */
const CONNECTIVITY_SAMPLE = 100_000;
const CONNECTIVITY_EF = 256;

/**
 * HNSW connectivity: searches base vectors for themselves at a generous ef and counts those not
 * returned — nodes the graph cannot reach from its entry point are invisible to every query.
 */
async function connectivityCheck(ctx: Ctx, index: VectorIndex, backend: string): Promise<ConnectivityResult | undefined> {
  const params = widenParams(backend, CONNECTIVITY_EF);
  if (!params) return undefined;
  const n = ctx.ds.info.n;
  const step = Math.max(1, Math.ceil(n / CONNECTIVITY_SAMPLE));
  const rows: number[] = [];
  for (let i = 0; i < n; i += step) rows.push(i);
  let notFound = 0;
  let notFirst = 0;
  const chunk = 4096;
  const buf = new Float32Array(chunk * ctx.d);
  for (let start = 0; start < rows.length; start += chunk) {
    const ids = rows.slice(start, start + chunk);
    for (let j = 0; j < ids.length; j++) buf.set(ctx.ds.base.subarray(ids[j]! * ctx.d, (ids[j]! + 1) * ctx.d), j * ctx.d);
    const res = await index.search(buf.subarray(0, ids.length * ctx.d), K, params);
    for (let j = 0; j < ids.length; j++) {
      const got = res[j]!.ids;
      if (!got.includes(ids[j]!)) notFound++;
      if (got[0] !== ids[j]) notFirst++;
    }
  }
  return { sampled: rows.length, params: paramsOf(params), notFound, notFirst };
}

async function runBuild(job: Extract<Job, { kind: 'build' }>): Promise<BuildJobResult> {
  const ctx = loadCtx(job.datasetDir, job.budget.queries);
  const { config } = job;
  const n = ctx.ds.info.n;
  const factory = await adapterFactory(config.backend);
  collectGarbage();
  const rss0 = rssBytes();
  const t0 = performance.now();
  const index = await createIndex({ backend: config.backend, dimension: ctx.d, metric: 'cosine', params: config.build });
  const ids = new Float64Array(n);
  for (let i = 0; i < n; i++) ids[i] = i;
  await index.add(ids, ctx.ds.base);
  // IVF trains lazily (first search/save); train now so the build time includes k-means.
  const trainable = index as VectorIndex & { train?: () => Promise<void> };
  if (typeof trainable.train === 'function') await trainable.train();
  const buildMs = performance.now() - t0;
  const buildRssDeltaBytes = rssBytes() - rss0;
  log(`  adapter build ${(buildMs / 1000).toFixed(1)} s`);
  const t1 = performance.now();
  await rm(job.indexDir, { recursive: true, force: true });
  if (index.persistence !== 'files') throw new Error(`${index.backend} keeps its index in a server: the ANN suite measures files backends`);
  await index.save(job.indexDir);
  const saveMs = performance.now() - t1;
  const diskBytes = dirBytes(job.indexDir);
  const batch: PointResult[] = [];
  for (const point of config.sweep) {
    const r = await batchPoint(ctx, index, point, job.budget);
    log(`  batch ${point.label}: recall@10 ${r.batch!.recall10.toFixed(4)}, ${r.batch!.qps.toFixed(0)} QPS`);
    batch.push(r);
  }
  const overhead: OverheadResult[] = [];
  if (job.bareFile) {
    const bare = await bareDriver(config.backend).load(config, job.bareFile, ctx.d, config.overheadPoint, 'all');
    const o = await overheadBatch(ctx, index, bare, config.overheadPoint, job.budget);
    log(`  batch overhead at ${o.point}: ×${o.ratio.toFixed(3)} (median of ${o.ratioSpread?.n ?? 1})`);
    overhead.push(o);
    bare.close();
  }
  const connectivity = await connectivityCheck(ctx, index, config.backend);
  if (connectivity) log(`  connectivity: ${connectivity.notFound} of ${connectivity.sampled} base vectors not found by their own search`);
  const params = { ...index.params };
  await index.close();
  return {
    buildMs,
    buildRssDeltaBytes,
    saveMs,
    diskBytes,
    params,
    library: factory.library,
    batch,
    overhead,
    ...(connectivity ? { connectivity } : {}),
    peakRssBytes: peakRssBytes(),
  };
}

async function runSingle(job: Extract<Job, { kind: 'single' }>): Promise<SingleJobResult> {
  const ctx = loadCtx(job.datasetDir, job.budget.queries);
  const { config } = job;
  collectGarbage();
  const rss0 = rssBytes();
  const t0 = performance.now();
  // One thread, as ann-benchmarks runs: USearch takes it as a parameter, FAISS from OMP_NUM_THREADS.
  const index = await loadAdapterIndex(job.indexDir, config.backend === 'usearch' ? { threads: 1 } : {});
  const loadMs = performance.now() - t0;
  collectGarbage();
  const indexMemoryBytes = rssBytes() - rss0;
  const single: PointResult[] = [];
  for (const point of config.sweep) {
    const r = await singlePoint(ctx, index, point, job.budget);
    const s = r.single!;
    log(`  single ${point.label}: recall@10 ${s.recall10.toFixed(4)}, ${s.qps.toFixed(0)} QPS, p50 ${s.latencyMs.p50.toFixed(3)} ms${s.queries < ctx.nq ? ` (${s.queries} queries)` : ''}`);
    single.push(r);
  }
  collectGarbage();
  const indexMemoryAfterSearchBytes = rssBytes() - rss0;
  const overhead: OverheadResult[] = [];
  if (job.bareFile) {
    const bare = await bareDriver(config.backend).load(config, job.bareFile, ctx.d, config.overheadPoint, 'single');
    const o = await overheadSingle(ctx, index, bare, config.overheadPoint, job.budget);
    log(`  single overhead at ${o.point}: ×${o.ratio.toFixed(3)} (median of ${o.ratioSpread?.n ?? 1})`);
    overhead.push(o);
    bare.close();
  }
  await index.close();
  return { loadMs, indexMemoryBytes, indexMemoryAfterSearchBytes, single, overhead, peakRssBytes: peakRssBytes() };
}

/** Runs `job` in this process and returns its result. */
export async function runJob(job: Job): Promise<unknown> {
  switch (job.kind) {
    case 'prepare':
      return runPrepare(job);
    case 'bare-build':
      return runBareBuild(job);
    case 'build':
      return runBuild(job);
    case 'single':
      return runSingle(job);
    case 'engine': {
      await registerAdapters();
      const { kind: _kind, ...opts } = job;
      return runEngineQuery({ ...opts, log });
    }
  }
}

async function main(): Promise<void> {
  const [jobFile, resultFile] = process.argv.slice(2);
  if (!jobFile || !resultFile) throw new Error('usage: worker <job.json> <result.json>');
  const { readFile } = await import('node:fs/promises');
  const job = JSON.parse(await readFile(jobFile, 'utf8')) as Job;
  const result = await runJob(job);
  await writeFileAtomic(resultFile, JSON.stringify(result));
}

const invoked = process.argv[1] ? path.resolve(process.argv[1]) : '';
if (invoked.endsWith(`${path.sep}worker.ts`) || invoked.endsWith(`${path.sep}worker.js`)) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
