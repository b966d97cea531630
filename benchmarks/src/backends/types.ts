import type { SearchParams } from '@pixsearch/core';

/** The backends the ANN suite compares with their bare libraries (each has a driver in this folder). */
export const BENCH_BACKENDS = ['faiss-flat', 'faiss-ivf', 'hnswlib', 'usearch'] as const;
export type BenchBackend = (typeof BENCH_BACKENDS)[number];

/** One point of a parameter sweep. */
export interface SweepPoint {
  /** Short label, e.g. `nprobe=16`, `ef=80`, `default`. */
  label: string;
  /** Search parameters passed to `VectorIndex.search` (empty: the adapter's defaults). */
  params: SearchParams<'nprobe' | 'efSearch' | 'expansion'>;
}

/** One index configuration to build and sweep (e.g. hnswlib with M=16). */
export interface BenchConfig {
  /** Unique, file-name-safe id, e.g. `hnswlib-M16`. */
  id: string;
  backend: BenchBackend;
  /** Human label used in tables and plot legends. */
  label: string;
  /** Build parameters for `createIndex` (the adapter's names). */
  build: Record<string, number | string>;
  /** Search points, cheapest first. */
  sweep: SweepPoint[];
  /** The point at which adapter and bare library are compared. */
  overheadPoint: SweepPoint;
}

/** A bare-library index, driven directly (no adapter) for the overhead comparison. */
export interface BareIndex {
  /** Ids of the top-k for one query (`dimension` floats). */
  searchOne(query: Float32Array, k: number): ArrayLike<number>;
  /** Ids of the top-k for each of the queries (all at once, all cores where the library can). */
  searchBatch(queries: Float32Array, k: number): ArrayLike<number>[];
  /** Releases what the library allows (native memory is otherwise freed by GC). */
  close(): void;
}

/** Build cost of a bare index, milliseconds, split the way the libraries force it. */
export interface BareBuildTimes {
  /** Float32Array → `number[]` conversion (faiss-node, hnswlib-node); 0 for USearch (zero-copy). */
  convertMs: number;
  /** Training (IVF k-means); 0 where there is none. */
  trainMs: number;
  /** Adding vectors (graph construction for HNSW). */
  addMs: number;
}

/** Drives one library directly, the way its own docs show, with the adapter's parameters. */
export interface BareDriver {
  /** npm package@version. */
  readonly library: string;
  /** Builds from `n × d` vectors with ids 0..n-1. */
  build(config: BenchConfig, base: Float32Array, dimension: number): { index: BareIndex; times: BareBuildTimes };
  /** Writes the index to `file` with the library's own writer. */
  save(index: BareIndex, file: string): void;
  /** Loads `file` (written by `save`) and applies the search parameters of `point` (untimed). */
  load(config: BenchConfig, file: string, dimension: number, point: SweepPoint, threads: 'single' | 'all'): Promise<BareIndex>;
}
