/**
 * Loader for the ann-benchmarks HDF5 layout (https://github.com/erikbern/ann-benchmarks):
 * datasets `train` (n × d), `test` (nq × d), `neighbors` (nq × K ids into `train`) and
 * `distances` (nq × K), and a file attribute `distance` (`angular`, `euclidean`, `dot`, …).
 * `coco-t2i-512-angular` (CLIP text queries against 113k CLIP image vectors) is our workload.
 *
 * Read with h5wasm (HDF5 compiled to WebAssembly; the node build sees the host filesystem).
 * Large datasets are read in row slices so the wasm heap never holds more than one block.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from '@pixsearch/core';
import type * as H5Module from 'h5wasm/node';

/** The contents of an ann-benchmarks file. */
export interface AnnBenchmarksData {
  train: Float32Array;
  test: Float32Array;
  dimension: number;
  /** `distance` attribute as written (e.g. `angular`); `undefined` when absent. */
  distance: string | undefined;
  /** Reference neighbours (ids into `train`), `test rows × neighborsK`; absent in some files. */
  neighbors: Int32Array | undefined;
  /** Reference distances, same shape as `neighbors`. */
  distances: Float32Array | undefined;
  neighborsK: number;
}

type H5 = typeof H5Module;
type H5Dataset = InstanceType<H5['Dataset']>;

let h5: Promise<H5> | undefined;
async function loadH5(): Promise<H5> {
  h5 ??= import('h5wasm/node').then(async (mod) => {
    await mod.ready;
    return mod;
  });
  return h5;
}

function shapeOf(file: string, ds: H5Dataset, name: string): [number, number] {
  const shape = ds.shape;
  if (!shape || shape.length !== 2) throw new InvalidArgumentError(`${file}: dataset "${name}" is not two-dimensional (shape ${JSON.stringify(shape)})`);
  return [shape[0]!, shape[1]!];
}

function readMatrix<T extends Float32Array | Int32Array>(file: string, ds: H5Dataset, name: string, make: (n: number) => T, maxRows?: number): { data: T; rows: number; cols: number } {
  const [allRows, cols] = shapeOf(file, ds, name);
  const rows = Math.min(allRows, maxRows ?? Infinity);
  const out = make(rows * cols);
  const block = Math.max(1, Math.floor((16 << 20) / Math.max(1, cols * 4)));
  for (let r = 0; r < rows; r += block) {
    const end = Math.min(rows, r + block);
    const part = ds.slice([[r, end]]);
    if (!ArrayBuffer.isView(part) || (part as unknown as { length: number }).length !== (end - r) * cols) {
      throw new InvalidArgumentError(`${file}: dataset "${name}" is not numeric`);
    }
    // Converts element-wise when the stored type differs (float64, int64 as bigint, …).
    const src = part as unknown as ArrayLike<number | bigint>;
    if (src instanceof (out.constructor as typeof Float32Array)) out.set(src as unknown as ArrayLike<number>, r * cols);
    else for (let i = 0; i < src.length; i++) out[r * cols + i] = Number(src[i]!);
  }
  return { data: out, rows, cols };
}

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Fails early (and quietly: libhdf5 prints diagnostics otherwise) on a missing or non-HDF5 file. */
function checkSignature(file: string, abs: string): void {
  let head: Buffer;
  try {
    const fd = openSync(abs, 'r');
    try {
      head = Buffer.alloc(8);
      readSync(fd, head, 0, 8, 0);
    } finally {
      closeSync(fd);
    }
  } catch (cause) {
    throw new InvalidArgumentError(`cannot read ${file}`, { cause });
  }
  if (!head.equals(HDF5_SIGNATURE)) throw new InvalidArgumentError(`${file} is not an HDF5 file`);
}

/**
 * Reads an ann-benchmarks HDF5 file. `maxTrain` / `maxTest` cut the sets (reference neighbours
 * are then only valid when `train` is whole). Throws `InvalidArgumentError` for a file that lacks
 * `train`/`test` or has mismatched dimensions.
 */
export async function readAnnBenchmarksHdf5(file: string, options: { maxTrain?: number; maxTest?: number } = {}): Promise<AnnBenchmarksData> {
  const abs = path.resolve(file);
  checkSignature(file, abs);
  const mod = await loadH5();
  let f: InstanceType<H5['File']>;
  try {
    f = new mod.File(abs, 'r');
  } catch (cause) {
    throw new InvalidArgumentError(`${file} is not a readable HDF5 file`, { cause });
  }
  try {
    const get = (name: string): H5Dataset | undefined => {
      let e: unknown;
      try {
        e = f.get(name);
      } catch {
        e = undefined;
      }
      return e instanceof mod.Dataset ? e : undefined;
    };
    const trainDs = get('train');
    const testDs = get('test');
    if (!trainDs || !testDs) throw new InvalidArgumentError(`${file}: not an ann-benchmarks file (needs datasets "train" and "test")`);
    const train = readMatrix(file, trainDs, 'train', (n) => new Float32Array(n), options.maxTrain);
    const test = readMatrix(file, testDs, 'test', (n) => new Float32Array(n), options.maxTest);
    if (train.cols !== test.cols) throw new InvalidArgumentError(`${file}: train has dimension ${train.cols} but test has ${test.cols}`);
    const nbDs = get('neighbors');
    const distDs = get('distances');
    const neighbors = nbDs ? readMatrix(file, nbDs, 'neighbors', (n) => new Int32Array(n), options.maxTest) : undefined;
    const distances = distDs ? readMatrix(file, distDs, 'distances', (n) => new Float32Array(n), options.maxTest) : undefined;
    let distance: string | undefined;
    if ('distance' in f.attrs) {
      const v = f.get_attribute('distance', true);
      distance = typeof v === 'string' ? v : Array.isArray(v) ? String(v[0]) : String(v);
    }
    return {
      train: train.data,
      test: test.data,
      dimension: train.cols,
      distance,
      neighbors: neighbors?.data,
      distances: distances?.data,
      neighborsK: neighbors?.cols ?? 0,
    };
  } finally {
    f.close();
  }
}

/**
 * Writes `data` in the ann-benchmarks layout (used by the tests, and handy to export a
 * synthetic set for other tools).
 */
export async function writeAnnBenchmarksHdf5(
  file: string,
  data: { train: Float32Array; test: Float32Array; dimension: number; distance: string; neighbors?: Int32Array; distances?: Float32Array; neighborsK?: number },
): Promise<void> {
  const mod = await loadH5();
  const f = new mod.File(path.resolve(file), 'w');
  try {
    const d = data.dimension;
    f.create_attribute('distance', data.distance);
    f.create_attribute('dimension', d);
    f.create_attribute('point_type', 'float');
    f.create_dataset({ name: 'train', data: data.train, shape: [data.train.length / d, d], dtype: '<f' });
    f.create_dataset({ name: 'test', data: data.test, shape: [data.test.length / d, d], dtype: '<f' });
    if (data.neighbors && data.neighborsK) {
      f.create_dataset({ name: 'neighbors', data: data.neighbors, shape: [data.neighbors.length / data.neighborsK, data.neighborsK], dtype: '<i' });
    }
    if (data.distances && data.neighborsK) {
      f.create_dataset({ name: 'distances', data: data.distances, shape: [data.distances.length / data.neighborsK, data.neighborsK], dtype: '<f' });
    }
  } finally {
    f.close();
  }
}
