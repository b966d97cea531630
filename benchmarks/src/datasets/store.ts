/**
 * The on-disk dataset cache (default `benchmarks/.data`, git-ignored). One folder per dataset:
 *
 *     <name>/info.json      what it is (size, dimension, source, generator version)
 *     <name>/base.f32       n × d float32, little-endian, row-major
 *     <name>/queries.f32    nq × d
 *     <name>/gt.i32         nq × K exact neighbour ids (written by the ground-truth job)
 *     <name>/gt.f32         nq × K exact scores (inner product), best first
 *
 * Folders are written under a temporary name and renamed into place, so a crash never leaves
 * a half-written dataset that a later run would trust.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, normalizeRows, writeFileAtomic } from '@pixsearch/core';
import { readAnnBenchmarksHdf5 } from './hdf5.js';
import { GENERATOR_VERSION, defaultClusters, generateSynthetic, type QueryKind, type SyntheticVariant } from './synthetic.js';
import { readFvecs } from './vecs.js';

/** Where datasets live unless `--data-dir` / `PIXSEARCH_BENCH_DATA` says otherwise. */
export const DEFAULT_DATA_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../.data');

/** Describes a cached dataset (`info.json`). */
export interface DatasetInfo {
  name: string;
  /** Base vectors. */
  n: number;
  /** Query vectors. */
  nq: number;
  dimension: number;
  /** Vectors are L2-normalised and compared by inner product. */
  metric: 'cosine';
  /** Human-readable origin, e.g. `synthetic v1 (seed 1, 474 clusters)` or a file path. */
  source: string;
  /** Generator version for synthetic sets. */
  generatorVersion?: number;
  /** Synthetic sets: which data set variant (absent in older caches: `standard`). */
  dataVariant?: DataVariant;
}

/**
 * The synthetic data sets a run can measure, each with its own ground truth:
 *   standard — CLIP-like image embeddings, queries from the same mixture (image → image search);
 *   text     — the same base, text-like queries across CLIP's modality gap (best cosine ≈ 0.3);
 *   hard     — a less separable mixture (overlapping clusters), in-distribution queries.
 */
export type DataVariant = 'standard' | 'text' | 'hard';
export const DATA_VARIANTS: readonly DataVariant[] = ['standard', 'text', 'hard'];

function variantShape(v: DataVariant): { variant: SyntheticVariant; queryKind: QueryKind } {
  return v === 'hard' ? { variant: 'hard', queryKind: 'in-distribution' } : { variant: 'standard', queryKind: v === 'text' ? 'text-like' : 'in-distribution' };
}

/** A dataset loaded into memory. */
export interface Dataset {
  info: DatasetInfo;
  dir: string;
  base: Float32Array;
  queries: Float32Array;
}

/** Ground truth: `nq × k` ids and scores, best first. */
export interface GroundTruth {
  k: number;
  ids: Int32Array;
  scores: Float32Array;
}

/** Parses `10k`, `100k`, `1m`, `1M`, `250000`. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError(`cannot read size "${text}" (use e.g. 10k, 100k, 1m)`);
  const n = Number(m[1]) * (m[2] === '' ? 1 : m[2]!.toLowerCase() === 'k' ? 1e3 : 1e6);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`size "${text}" is not a positive whole number`);
  return n;
}

/** Short form of a size: 10000 → `10k`, 1000000 → `1m`. */
export function formatSize(n: number): string {
  if (n % 1_000_000 === 0) return `${n / 1_000_000}m`;
  if (n % 1000 === 0) return `${n / 1000}k`;
  return String(n);
}

/** Name of the cached synthetic dataset for these settings. */
export function syntheticName(n: number, nq: number, seed: number, variant: DataVariant = 'standard'): string {
  return `synthetic-v${GENERATOR_VERSION}${variant === 'standard' ? '' : `-${variant}`}-${formatSize(n)}-q${nq}-s${seed}`;
}

/** Reads a whole little-endian float32 / int32 file into a typed array (block-wise: works above 2 GiB). */
export function readTypedFile<T extends Float32Array | Int32Array>(file: string, make: (n: number) => T): T {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size % 4 !== 0) throw new InvalidArgumentError(`${file} has ${size} bytes, not a multiple of 4`);
    const out = make(size / 4);
    const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    const block = 64 << 20;
    for (let off = 0; off < size; ) {
      const k = readSync(fd, bytes, off, Math.min(block, size - off), off);
      if (k === 0) throw new InvalidArgumentError(`${file} ended early`);
      off += k;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

function writeTyped(fd: number, data: Float32Array | Int32Array): void {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, Math.min(64 << 20, bytes.length - off));
}

/** Writes a typed array to `file` (not atomic: used inside a temporary folder). */
export function writeTypedFile(file: string, data: Float32Array | Int32Array): void {
  const fd = openSync(file, 'w');
  try {
    writeTyped(fd, data);
  } finally {
    closeSync(fd);
  }
}

/** Reads `info.json` of a cached dataset, or `undefined` when the folder is absent or incomplete. */
export function readInfo(dir: string): DatasetInfo | undefined {
  const file = path.join(dir, 'info.json');
  if (!existsSync(file) || !existsSync(path.join(dir, 'base.f32')) || !existsSync(path.join(dir, 'queries.f32'))) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DatasetInfo;
  } catch {
    return undefined;
  }
}

/** Writes a dataset folder atomically (temp folder + rename). Returns its path. */
function commitDataset(dataDir: string, info: DatasetInfo, fill: (tmpDir: string) => void): string {
  const dir = path.join(dataDir, info.name);
  const tmp = path.join(dataDir, `.${info.name}.${process.pid}.tmp`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    fill(tmp);
    writeTypedFileJson(path.join(tmp, 'info.json'), info);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return dir;
}

function writeTypedFileJson(file: string, value: unknown): void {
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, JSON.stringify(value, null, 2) + '\n');
  } finally {
    closeSync(fd);
  }
}

/**
 * Makes sure the synthetic dataset (`n` base, `nq` queries, 512-d unless `dimension`) is cached,
 * generating it if needed (streamed to disk: memory stays small). Returns its folder.
 */
export function ensureSynthetic(dataDir: string, n: number, nq: number, seed = 1, dimension = 512, dataVariant: DataVariant = 'standard'): string {
  const name = syntheticName(n, nq, seed, dataVariant) + (dimension === 512 ? '' : `-d${dimension}`);
  const dir = path.join(dataDir, name);
  if (readInfo(dir)) return dir;
  mkdirSync(dataDir, { recursive: true });
  const clusters = defaultClusters(n);
  const { variant, queryKind } = variantShape(dataVariant);
  const described = { standard: 'CLIP-like mixture', text: 'CLIP-like mixture, text-like queries across the modality gap', hard: 'less separable CLIP-like mixture' }[dataVariant];
  const info: DatasetInfo = {
    name,
    n,
    nq,
    dimension,
    metric: 'cosine',
    source: `synthetic v${GENERATOR_VERSION} (seed ${seed}, ${clusters} clusters, ${described})`,
    generatorVersion: GENERATOR_VERSION,
    dataVariant,
  };
  const spec = { n, queries: nq, dimension, seed, clusters, variant };
  return commitDataset(dataDir, info, (tmp) => {
    for (const which of ['base', 'queries'] as const) {
      const fd = openSync(path.join(tmp, `${which}.f32`), 'w');
      try {
        generateSynthetic(spec, which, (chunk) => writeTyped(fd, chunk), queryKind);
      } finally {
        closeSync(fd);
      }
    }
  });
}

/**
 * Imports user data into the cache: an ann-benchmarks `.hdf5` file, or a `.fvecs` base file
 * with a second `.fvecs` for the queries (`base.fvecs:queries.fvecs`). Vectors are
 * L2-normalised (the suite measures cosine / inner-product search). Returns the folder.
 */
export async function ensureImported(dataDir: string, spec: string, options: { maxBase?: number; maxQueries?: number } = {}): Promise<string> {
  const [baseFile, queryFile] = spec.split(':') as [string, string | undefined];
  const stem = path.basename(baseFile).replace(/\.(hdf5|h5|fvecs)$/i, '').replace(/[^A-Za-z0-9._-]+/g, '_');
  const suffix = `${options.maxBase ? `-${formatSize(options.maxBase)}` : ''}${options.maxQueries ? `-q${options.maxQueries}` : ''}`;
  const name = `file-${stem}${suffix}`;
  const dir = path.join(dataDir, name);
  if (readInfo(dir)) return dir;
  let base: Float32Array;
  let queries: Float32Array;
  let d: number;
  let source: string;
  if (/\.(hdf5|h5)$/i.test(baseFile)) {
    const data = await readAnnBenchmarksHdf5(baseFile, { maxTrain: options.maxBase, maxTest: options.maxQueries });
    if (data.distance && !['angular', 'cosine', 'dot', 'ip'].includes(data.distance)) {
      throw new InvalidArgumentError(`${baseFile} uses distance "${data.distance}"; the suite measures cosine/inner-product search (angular sets)`);
    }
    ({ train: base, test: queries, dimension: d } = data);
    source = `${path.resolve(baseFile)} (ann-benchmarks, distance ${data.distance ?? 'unknown'})`;
  } else {
    if (!queryFile) throw new InvalidArgumentError(`an .fvecs base needs a query file too: --dataset base.fvecs:queries.fvecs`);
    const b = readFvecs(baseFile, options.maxBase);
    const q = readFvecs(queryFile, options.maxQueries);
    if (b.dimension !== q.dimension) throw new InvalidArgumentError(`base has dimension ${b.dimension} but queries have ${q.dimension}`);
    base = b.data;
    queries = q.data;
    d = b.dimension;
    source = `${path.resolve(baseFile)} + ${path.resolve(queryFile)} (fvecs)`;
  }
  normalizeRows(base, d);
  normalizeRows(queries, d);
  mkdirSync(dataDir, { recursive: true });
  const info: DatasetInfo = { name, n: base.length / d, nq: queries.length / d, dimension: d, metric: 'cosine', source };
  return commitDataset(dataDir, info, (tmp) => {
    writeTypedFile(path.join(tmp, 'base.f32'), base);
    writeTypedFile(path.join(tmp, 'queries.f32'), queries);
  });
}

/** Loads a cached dataset folder into memory. */
export function loadDataset(dir: string): Dataset {
  const info = readInfo(dir);
  if (!info) throw new InvalidArgumentError(`${dir} is not a complete dataset folder`);
  const base = readTypedFile(path.join(dir, 'base.f32'), (n) => new Float32Array(n));
  const queries = readTypedFile(path.join(dir, 'queries.f32'), (n) => new Float32Array(n));
  if (base.length !== info.n * info.dimension || queries.length !== info.nq * info.dimension) {
    throw new InvalidArgumentError(`${dir}: data files disagree with info.json; delete the folder to regenerate`);
  }
  return { info, dir, base, queries };
}

/** Loads cached ground truth, or `undefined` when absent. */
export function loadGroundTruth(dir: string, info: DatasetInfo): GroundTruth | undefined {
  const idsFile = path.join(dir, 'gt.i32');
  const scoresFile = path.join(dir, 'gt.f32');
  if (!existsSync(idsFile) || !existsSync(scoresFile)) return undefined;
  const ids = readTypedFile(idsFile, (n) => new Int32Array(n));
  const scores = readTypedFile(scoresFile, (n) => new Float32Array(n));
  const k = ids.length / info.nq;
  if (!Number.isInteger(k) || k < 1 || scores.length !== ids.length) return undefined;
  return { k, ids, scores };
}

/** Saves ground truth next to the dataset (each file written atomically). */
export async function saveGroundTruth(dir: string, gt: GroundTruth): Promise<void> {
  // Scores first: loadGroundTruth needs both, so a crash between the two leaves "absent".
  await writeFileAtomic(path.join(dir, 'gt.f32'), new Uint8Array(gt.scores.buffer, gt.scores.byteOffset, gt.scores.byteLength));
  await writeFileAtomic(path.join(dir, 'gt.i32'), new Uint8Array(gt.ids.buffer, gt.ids.byteOffset, gt.ids.byteLength));
}
