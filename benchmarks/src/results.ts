/** Shapes of what workers measure and what a run report holds (the JSON file's schema). */
import type { BareBuildTimes, BenchConfig } from './backends/types.js';
import type { DatasetInfo } from './datasets/store.js';
import type { LatencySummary, Spread } from './metrics.js';
import type { EngineQueryResult } from './engine-query/engine-query.js';

/** Single-query mode at one sweep point. */
export interface SingleMetrics {
  /** Queries timed (all, unless the time budget cut them). */
  queries: number;
  reps: number;
  qps: number;
  latencyMs: LatencySummary;
  /** ann-benchmarks recall (1e-3 score tolerance), over the full query set. */
  recall1: number;
  recall10: number;
  /** Strict recall (id overlap with the exact top-k), over the full query set; targets use it. */
  strict1?: number;
  strict10?: number;
  /** hist10[i] = queries that got i of the exact top-10 (strict). */
  hist10?: number[];
  /** Queries the recall figures cover (the full set, even when timing stopped early). */
  recallQueries?: number;
}

/** Batch mode at one sweep point. */
export interface BatchMetrics {
  queries: number;
  reps: number;
  /** k = 10. */
  qps: number;
  recall1: number;
  recall10: number;
  strict1?: number;
  strict10?: number;
  hist10?: number[];
  recallQueries?: number;
  /** From a k = 100 batch over the full query set (timed once). */
  recall100: number;
  qps100: number;
}

/** One sweep point. */
export interface PointResult {
  label: string;
  params: Record<string, number>;
  single?: SingleMetrics;
  batch?: BatchMetrics;
}

/** Adapter vs bare library at one point, in one process, interleaved. */
export interface OverheadResult {
  mode: 'single' | 'batch' | 'build';
  point: string;
  /** Best time per query (search) or total build time, ms. */
  adapterMs: number;
  bareMs: number;
  /** adapterMs / bareMs (target ≤ 1.10): the median of the per-repetition ratios. */
  ratio: number;
  /** Spread of the per-repetition ratios (each repetition alternates adapter and bare). */
  ratioSpread?: Spread;
  adapterRecall10?: number;
  bareRecall10?: number;
}

/** Output of the `build` job (adapter build + save + batch sweep). */
export interface BuildJobResult {
  buildMs: number;
  /** RSS growth over the build, bytes (includes transient garbage). */
  buildRssDeltaBytes: number;
  saveMs: number;
  diskBytes: number;
  /** The adapter's parameters after build (e.g. nlist, default nprobe). */
  params: Record<string, number | string>;
  library: string;
  batch: PointResult[];
  overhead: OverheadResult[];
  /** HNSW backends: the self-search connectivity check. */
  connectivity?: ConnectivityResult;
  peakRssBytes: number;
}

/** Output of the `bare-build` job: bare and adapter builds alternated in one process. */
export interface BareBuildJobResult {
  library: string;
  /** The last bare build's split. */
  times: BareBuildTimes;
  /** Median bare build time, ms. */
  totalMs: number;
  diskBytes: number;
  peakRssBytes: number;
  /** Build overhead (adapter / bare), measured in this one process, interleaved. */
  overhead?: OverheadResult;
}

/**
 * Graph connectivity of an HNSW index: a sample of base vectors searched for themselves at a
 * generous ef. A vector not returned for its own query is (practically) unreachable from the
 * entry point — no query can ever find it.
 */
export interface ConnectivityResult {
  /** Base vectors searched. */
  sampled: number;
  /** Search parameters used (e.g. efSearch 256). */
  params: Record<string, number>;
  /** Not among the top 10 of their own search. */
  notFound: number;
  /** Not the top 1 of their own search. */
  notFirst: number;
}

/** Output of the `single` job (load + single-query sweep). */
export interface SingleJobResult {
  loadMs: number;
  /** RSS growth from loading the index, bytes (ann-benchmarks' "index size"). */
  indexMemoryBytes: number;
  /** RSS growth after the sweep (memory-mapped files count once touched), bytes. */
  indexMemoryAfterSearchBytes: number;
  single: PointResult[];
  overhead: OverheadResult[];
  peakRssBytes: number;
}

/** Output of the `prepare` job. */
export interface PrepareJobResult {
  info: DatasetInfo;
  gtK: number;
  /** Time to compute ground truth (0 when cached), ms. */
  groundTruthMs: number;
  peakRssBytes: number;
}

/** A child process that failed. */
export interface JobFailure {
  job: string;
  exitCode: number | null;
  signal: string | null;
  message: string;
}

/** Everything measured for one configuration on one dataset. */
export interface ConfigResult {
  config: BenchConfig;
  build?: BuildJobResult;
  bareBuild?: BareBuildJobResult;
  single?: SingleJobResult;
  /** Sweep points merged from the build (batch) and single jobs. */
  points: PointResult[];
  overhead: OverheadResult[];
  failures: JobFailure[];
}

/** One dataset's results. */
export interface DatasetResult {
  info: DatasetInfo;
  /** When this dataset's measurements started, and the load average then (a busy machine skews timings). */
  startedAt?: string;
  loadAverage?: number[];
  /** The CPU this section ran on (the VM lands on different CPU generations) and the load at its end. */
  cpu?: string;
  loadAverageEnd?: number[];
  /** The command that measured it (differs from the report's when merged with --resume). */
  command?: string;
  /** Timing settings it was measured with. */
  settings?: { queries: number; reps: number; budgetS: number };
  groundTruthMs: number;
  configs: ConfigResult[];
}

/** A target from the issue, evaluated. */
export interface TargetResult {
  name: string;
  status: 'pass' | 'fail' | 'not measured';
  detail: string;
}

/** The JSON report of one run. */
export interface RunReport {
  schema: 1;
  runId: string;
  date: string;
  command: string;
  mode: 'quick' | 'full';
  durationS: number;
  machine: MachineInfo;
  versions: Record<string, string>;
  settings: { queries: number; reps: number; budgetS: number; overhead: boolean };
  datasets: DatasetResult[];
  /** End-to-end text queries through the engine, when run. */
  engine?: { results: EngineQueryResult[]; failures: JobFailure[] };
  targets: TargetResult[];
  notes: string[];
}

/** Where the numbers came from. */
export interface MachineInfo {
  hostname: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  /** CPU flags relevant to the kernels (avx, avx2, fma, avx512f). */
  cpuFlags: string[];
  /** How FAISS was built (the Debian libfaiss has no AVX2 kernels). */
  faissBuild: string;
  /** Load average at the start of the run (a busy machine skews timings). */
  loadAverage: number[];
}
