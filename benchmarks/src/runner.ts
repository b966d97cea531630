/**
 * Runs the suite: prepares each dataset (generate or import, ground truth), then for each index
 * configuration starts child processes — bare-library build (for the overhead ratio), adapter
 * build + batch sweep, single-query sweep with one thread — and gathers their results into a
 * report. A child that crashes (a native abort) is recorded as a failure; the suite goes on.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchBackend } from './backends/index.js';
import type { BenchConfig } from './backends/types.js';
import { DATA_VARIANTS, DEFAULT_DATA_DIR, ensureImported, ensureSynthetic, formatSize, type DataVariant } from './datasets/store.js';
import { libraryVersions, machineInfo } from './machine.js';
import { planConfigs, type RunMode } from './plan.js';
import type {
  BareBuildJobResult,
  BuildJobResult,
  ConfigResult,
  DatasetResult,
  JobFailure,
  PointResult,
  PrepareJobResult,
  RunReport,
  SingleJobResult,
} from './results.js';
import type { EngineQueryResult } from './engine-query/engine-query.js';
import { evaluateTargets } from './targets.js';
import type { Job, JobBudget } from './worker.js';

/** Ground-truth depth (recall@100 needs 100). */
export const GT_K = 100;

/** What to run. */
export interface SuiteOptions {
  mode: RunMode;
  /** Synthetic dataset sizes (base vectors). */
  sizes: number[];
  /**
   * Synthetic data sets per size (see `DataVariant`); default: standard and text-like queries at
   * every size, plus the harder mixture below 1M in the full run.
   */
  variants?: DataVariant[];
  /** User datasets: an ann-benchmarks `.hdf5` file or `base.fvecs:queries.fvecs`. */
  files?: string[];
  /** Cap on base vectors taken from user files. */
  maxBase?: number;
  backends?: BenchBackend[];
  /** Query vectors per synthetic dataset. */
  queries: number;
  /** Best-of repetitions. */
  reps: number;
  /** Time budget per sweep point, seconds. */
  budgetS: number;
  /** Compare adapters with the bare libraries: always, never, or only below 1M vectors. */
  overhead: 'on' | 'off' | 'auto';
  seed: number;
  dataDir: string;
  /** Folder the run's report goes into (created). */
  outDir: string;
  /** The command line, for the report. */
  command: string;
  /** Reuse datasets (and engine results) already measured in `outDir/report.json`. */
  resume?: boolean;
  /** Keep built indexes under dataDir/indexes. */
  keepIndexes?: boolean;
  /** Progress lines (default: stdout). */
  log?: (line: string) => void;
  /** Extra notes for the report. */
  notes?: string[];
  /** The end-to-end text query through the engine (item 6); omitted: not run. */
  engine?: EngineRunOptions;
}

/** Settings of the end-to-end engine query run. */
export interface EngineRunOptions {
  /** Library size (synthetic CLIP-like embeddings), default 100k. */
  n: number;
  /** Any registered backend: the engine measurement goes through the engine, not a bare driver. */
  backends: string[];
  queries: number;
  /** Results per query (the engine's default page is 30). */
  k: number;
}

/** Caveats printed in every report. */
export const STANDARD_NOTES = [
  'The synthetic clusters are well separated, which suits IVF (its k-means cells line up with them): on real CLIP data IVF usually needs more probes for the same recall. Run with --dataset coco-t2i-512-angular.hdf5 (ann-benchmarks) to check on real embeddings.',
  'hnswlib-node has no batch search and is single-threaded: its "batch" QPS is a loop on one core.',
  'The machine was shared while these numbers were taken: each dataset section gives the load average at its start. Ratios measured in one process (adapter overhead) are robust to that; absolute QPS are not.',
];

/** The synthetic data sets measured at size `n`. */
export function variantsFor(n: number, mode: RunMode, explicit?: readonly DataVariant[]): DataVariant[] {
  if (explicit) return DATA_VARIANTS.filter((v) => explicit.includes(v));
  return mode === 'full' && n < 1_000_000 ? [...DATA_VARIANTS] : ['standard', 'text'];
}

const roundLoad = (): number[] => os.loadavg().map((v) => Math.round(v * 100) / 100);

/** Defaults per mode. */
export function modeDefaults(mode: RunMode): Pick<SuiteOptions, 'sizes' | 'queries' | 'reps' | 'budgetS' | 'overhead'> {
  return mode === 'quick'
    ? { sizes: [10_000], queries: 200, reps: 1, budgetS: 2, overhead: 'on' }
    : { sizes: [10_000, 100_000, 1_000_000], queries: 1000, reps: 3, budgetS: 10, overhead: 'auto' };
}

export { DEFAULT_DATA_DIR };

const here = fileURLToPath(import.meta.url);
const workerFile = path.join(path.dirname(here), here.endsWith('.ts') ? 'worker.ts' : 'worker.js');

/** Runs one job in a child process; resolves to its result or a failure. */
function runChild<T>(job: Job, work: string, name: string, singleThread: boolean, log: (l: string) => void): Promise<T | JobFailure> {
  const jobFile = path.join(work, `${name}.job.json`);
  const resultFile = path.join(work, `${name}.result.json`);
  writeFileSync(jobFile, JSON.stringify(job));
  rmSync(resultFile, { force: true });
  const args = [
    ...(workerFile.endsWith('.ts') ? ['--conditions=@pixsearch/source', '--import', 'tsx'] : []),
    '--expose-gc',
    '--max-old-space-size=16384',
    workerFile,
    jobFile,
    resultFile,
  ];
  const env = { ...process.env, OMP_NUM_THREADS: singleThread ? '1' : String(os.availableParallelism()) };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const forward = (chunk: Buffer, keep: boolean): void => {
      const text = chunk.toString('utf8');
      if (keep) tail = (tail + text).slice(-4000);
      for (const line of text.split('\n')) if (line.trim()) log(keep ? `  ! ${line}` : line);
    };
    child.stdout.on('data', (c: Buffer) => forward(c, false));
    child.stderr.on('data', (c: Buffer) => forward(c, true));
    child.on('close', (code, signal) => {
      if (code === 0 && existsSync(resultFile)) {
        resolve(JSON.parse(readFileSync(resultFile, 'utf8')) as T);
      } else {
        const message = tail.trim().split('\n').slice(-6).join('\n') || 'no output';
        resolve({ job: `${job.kind} ${name}`, exitCode: code, signal, message });
      }
    });
    child.on('error', (err) => resolve({ job: `${job.kind} ${name}`, exitCode: null, signal: null, message: err.message }));
  });
}

/** The report already in `outDir`, if any (for --resume). */
function readPrevious(outDir: string): RunReport | undefined {
  const file = path.join(outDir, 'report.json');
  if (!existsSync(file)) return undefined;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as RunReport;
    return r.schema === 1 ? r : undefined;
  } catch {
    return undefined;
  }
}

function isFailure(x: unknown): x is JobFailure {
  return typeof x === 'object' && x !== null && 'job' in x && 'message' in x && 'exitCode' in x;
}

function mergePoints(config: BenchConfig, build?: BuildJobResult, single?: SingleJobResult): PointResult[] {
  return config.sweep.map((p) => {
    const b = build?.batch.find((x) => x.label === p.label);
    const s = single?.single.find((x) => x.label === p.label);
    return { label: p.label, params: b?.params ?? s?.params ?? {}, ...(s?.single ? { single: s.single } : {}), ...(b?.batch ? { batch: b.batch } : {}) };
  });
}

async function runConfig(
  config: BenchConfig,
  datasetDir: string,
  work: string,
  budget: JobBudget,
  overhead: boolean,
  log: (l: string) => void,
  buildReps: number,
): Promise<ConfigResult> {
  const failures: JobFailure[] = [];
  const indexDir = path.join(work, config.id, 'index');
  const bareFile = path.join(work, config.id, 'bare.bin');
  mkdirSync(path.join(work, config.id), { recursive: true });
  let bareBuild: BareBuildJobResult | undefined;
  if (overhead) {
    log(`- ${config.label}: bare library build, interleaved with adapter builds (${buildReps}×)`);
    const r = await runChild<BareBuildJobResult>({ kind: 'bare-build', datasetDir, config, bareFile, reps: buildReps }, work, `${config.id}.bare`, false, log);
    if (isFailure(r)) failures.push(r);
    else bareBuild = r;
  }
  const haveBare = bareBuild !== undefined;
  log(`- ${config.label}: adapter build + batch sweep`);
  const b = await runChild<BuildJobResult>(
    { kind: 'build', datasetDir, config, indexDir, budget, ...(haveBare ? { bareFile } : {}) },
    work,
    `${config.id}.build`,
    false,
    log,
  );
  let build: BuildJobResult | undefined;
  let single: SingleJobResult | undefined;
  if (isFailure(b)) failures.push(b);
  else {
    build = b;
    log(`- ${config.label}: single-query sweep (1 thread)`);
    const s = await runChild<SingleJobResult>(
      { kind: 'single', datasetDir, config, indexDir, budget, ...(haveBare ? { bareFile } : {}) },
      work,
      `${config.id}.single`,
      true,
      log,
    );
    if (isFailure(s)) failures.push(s);
    else single = s;
  }
  const overheadResults = [...(build?.overhead ?? []), ...(single?.overhead ?? [])];
  if (bareBuild?.overhead) overheadResults.unshift(bareBuild.overhead);
  for (const f of failures) log(`  FAILED ${f.job}: exit ${f.exitCode ?? ''} ${f.signal ?? ''} ${f.message.split('\n').pop() ?? ''}`);
  return {
    config,
    ...(build ? { build } : {}),
    ...(bareBuild ? { bareBuild } : {}),
    ...(single ? { single } : {}),
    points: mergePoints(config, build, single),
    overhead: overheadResults,
    failures,
  };
}

/** Runs the suite and returns the report (the caller writes it). */
export async function runSuite(opts: SuiteOptions): Promise<RunReport> {
  const log = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const started = Date.now();
  const date = new Date(started).toISOString();
  const machine = machineInfo();
  mkdirSync(opts.outDir, { recursive: true });
  log(`pixsearch benchmarks (${opts.mode}) on ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; load ${machine.loadAverage.join(' ')}`);
  const datasetDirs: string[] = [];
  /** Datasets whose adapter-vs-bare comparison is skipped (it does not depend on the queries). */
  const noOverhead = new Set<string>();
  for (const n of opts.sizes) {
    for (const v of variantsFor(n, opts.mode, opts.variants)) {
      log(`dataset: synthetic ${formatSize(n)} × 512 (${v}), ${opts.queries} queries (cached under ${opts.dataDir})`);
      const dir = ensureSynthetic(opts.dataDir, n, opts.queries, opts.seed, 512, v);
      datasetDirs.push(dir);
      if (v === 'text') noOverhead.add(dir);
    }
  }
  for (const f of opts.files ?? []) {
    log(`dataset: ${f}`);
    datasetDirs.push(await ensureImported(opts.dataDir, f, { ...(opts.maxBase ? { maxBase: opts.maxBase } : {}) }));
  }
  const previous = opts.resume ? readPrevious(opts.outDir) : undefined;
  const datasets: DatasetResult[] = [];
  for (const datasetDir of datasetDirs) {
    const name = path.basename(datasetDir);
    const done = previous?.datasets.find((d) => d.info.name === name);
    const planned = planConfigs({ n: done?.info.n ?? 0, mode: opts.mode, ...(opts.backends ? { backends: opts.backends } : {}) }).map((c) => c.id);
    // Configurations of this dataset already measured without failure (--resume).
    const kept = (done?.configs ?? []).filter((c) => c.failures.length === 0);
    if (done && previous && planned.every((id) => kept.some((c) => c.config.id === id))) {
      log(`== ${name}: already measured in ${opts.outDir} (--resume), kept`);
      // Older reports kept these only in the header: carry them into the dataset.
      datasets.push({
        ...done,
        startedAt: done.startedAt ?? previous.date,
        loadAverage: done.loadAverage ?? previous.machine.loadAverage,
        command: done.command ?? previous.command,
        settings: done.settings ?? { queries: previous.settings.queries, reps: previous.settings.reps, budgetS: previous.settings.budgetS },
      });
      continue;
    }
    const startedAt = new Date().toISOString();
    const loadAverage = roundLoad();
    const work = path.join(opts.dataDir, 'indexes', name);
    mkdirSync(work, { recursive: true });
    log(`== ${name}: ground truth (faiss IndexFlatIP, k=${GT_K})`);
    const prep = await runChild<PrepareJobResult>({ kind: 'prepare', datasetDir, gtK: GT_K }, work, 'prepare', false, log);
    if (isFailure(prep)) {
      log(`  FAILED: ${prep.message}`);
      continue;
    }
    const n = prep.info.n;
    const overhead = !noOverhead.has(datasetDir) && (opts.overhead === 'on' || (opts.overhead === 'auto' && n < 1_000_000));
    const budget: JobBudget = { reps: opts.reps, budgetS: opts.budgetS, queries: Math.min(opts.queries, prep.info.nq) };
    const configs: ConfigResult[] = [];
    for (const config of planConfigs({ n, mode: opts.mode, ...(opts.backends ? { backends: opts.backends } : {}) })) {
      const previousConfig = kept.find((c) => c.config.id === config.id);
      if (previousConfig) {
        log(`- ${config.label}: already measured (--resume), kept`);
        configs.push(previousConfig);
        continue;
      }
      configs.push(await runConfig(config, datasetDir, work, budget, overhead, log, opts.reps));
      if (!opts.keepIndexes) rmSync(path.join(work, config.id), { recursive: true, force: true });
    }
    for (const c of kept) if (!configs.some((x) => x.config.id === c.config.id)) configs.push(c);
    datasets.push({
      info: prep.info,
      startedAt: done?.startedAt ?? startedAt,
      loadAverage,
      cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
      loadAverageEnd: roundLoad(),
      command: opts.command,
      settings: { queries: budget.queries, reps: budget.reps, budgetS: budget.budgetS },
      groundTruthMs: prep.groundTruthMs,
      configs,
    });
  }
  const engine: EngineQueryResult[] = [];
  const engineFailures: JobFailure[] = [];
  if (opts.engine && previous?.engine && previous.engine.results.length > 0 && previous.engine.failures.length === 0) {
    log('== end-to-end engine query: already measured (--resume), kept');
    engine.push(...previous.engine.results);
  } else if (opts.engine) {
    const e = opts.engine;
    log(`== end-to-end text query through the engine: ViT-B/32 bundle, ${formatSize(e.n)} images`);
    const datasetDir = ensureSynthetic(opts.dataDir, e.n, opts.queries, opts.seed);
    const work = path.join(opts.dataDir, 'engine');
    mkdirSync(work, { recursive: true });
    for (const backend of e.backends) {
      log(`- engine with ${backend}`);
      const loadBefore = roundLoad();
      const r = await runChild<EngineQueryResult>(
        {
          kind: 'engine',
          datasetDir,
          bundleDir: path.join(opts.dataDir, 'models', 'vit-b-32-seed0'),
          libraryDir: path.join(work, `library-${formatSize(e.n)}-${backend}`),
          backend,
          queries: e.queries,
          k: e.k,
        },
        work,
        `engine-${backend}`,
        false,
        log,
      );
      if (isFailure(r)) {
        engineFailures.push(r);
        log(`  FAILED: ${r.message}`);
      } else {
        engine.push({ ...r, cpu: os.cpus()[0]?.model.trim() ?? 'unknown', loadAverage: loadBefore, loadAverageEnd: roundLoad() });
        const st = r.stages;
        log(`  p50 total ${st.total.p50.toFixed(1)} ms = tokenize ${st.tokenize.p50.toFixed(2)} + text tower ${st.textTower.p50.toFixed(1)} + search ${st.search.p50.toFixed(1)} + catalog ${st.catalog.p50.toFixed(2)}; p99 total ${st.total.p99.toFixed(1)} ms`);
      }
    }
  }
  const report: RunReport = {
    schema: 1,
    runId: path.basename(opts.outDir),
    date,
    command: opts.command,
    mode: opts.mode,
    durationS: Math.round((Date.now() - started) / 1000),
    machine,
    versions: libraryVersions(),
    settings: { queries: opts.queries, reps: opts.reps, budgetS: opts.budgetS, overhead: opts.overhead !== 'off' },
    datasets,
    ...(opts.engine
      ? { engine: { results: engine, failures: engineFailures } }
      : previous?.engine
        ? { engine: previous.engine }
        : {}),
    targets: [],
    notes: [...STANDARD_NOTES, ...(opts.notes ?? [])],
  };
  report.targets = evaluateTargets(report);
  return report;
}
