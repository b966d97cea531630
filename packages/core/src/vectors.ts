import { DimensionMismatchError, InvalidArgumentError, InvalidVectorError } from './errors.js';

/** Largest id accepted anywhere: 2^53 − 1. */
export const MAX_ID = Number.MAX_SAFE_INTEGER;

/** Throws unless `vectors` holds `rows × dimension` finite floats. Returns `rows`. */
export function checkVectors(vectors: Float32Array, dimension: number, expectedRows?: number): number {
  if (!(vectors instanceof Float32Array)) {
    throw new InvalidArgumentError('vectors must be a Float32Array (row-major n × dimension)');
  }
  if (expectedRows !== undefined) {
    if (vectors.length !== expectedRows * dimension) {
      if (expectedRows > 0 && vectors.length % expectedRows === 0) {
        throw new DimensionMismatchError(dimension, vectors.length / expectedRows);
      }
      throw new InvalidArgumentError(`expected ${expectedRows} vectors of dimension ${dimension}, got ${vectors.length} floats`);
    }
  } else if (vectors.length % dimension !== 0) {
    // A single vector of the wrong length is the common case: report its length.
    throw new DimensionMismatchError(dimension, vectors.length, 'vector batch of length');
  }
  const rows = vectors.length / dimension;
  for (let i = 0; i < vectors.length; i++) {
    const v = vectors[i]!;
    // NaN fails both comparisons; ±Infinity fails the second.
    if (!(v === v) || v === Infinity || v === -Infinity) {
      throw new InvalidVectorError(`vector ${Math.floor(i / dimension)} contains ${v} at component ${i % dimension}`, Math.floor(i / dimension));
    }
  }
  return rows;
}

/** Throws unless every id is an integer in [0, 2^53−1]. */
export function checkIds(ids: ArrayLike<number>): void {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (!Number.isSafeInteger(id) || id < 0) {
      throw new InvalidArgumentError(`id ${id} at position ${i} is not an integer in [0, 2^53-1]`);
    }
  }
}

/** Throws unless `k` is an integer ≥ 1. */
export function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new InvalidArgumentError(`k must be an integer ≥ 1, got ${k}`);
}

/** L2-normalises each row of `vectors` in place; zero rows (and rows with non-finite values) are left as they are. Returns `vectors`. */
export function normalizeRows(vectors: Float32Array, dimension: number): Float32Array {
  for (let off = 0; off < vectors.length; off += dimension) {
    let sum = 0;
    for (let j = 0; j < dimension; j++) sum += vectors[off + j]! * vectors[off + j]!;
    if (sum > 0 && Number.isFinite(sum)) {
      const inv = 1 / Math.sqrt(sum);
      for (let j = 0; j < dimension; j++) vectors[off + j]! *= inv;
    }
  }
  return vectors;
}

/** Inner product of row `a` of `x` with row `b` of `y` (both of width `dimension`). */
export function dotRows(x: Float32Array, a: number, y: Float32Array, b: number, dimension: number): number {
  let s = 0;
  const ao = a * dimension;
  const bo = b * dimension;
  for (let j = 0; j < dimension; j++) s += x[ao + j]! * y[bo + j]!;
  return s;
}

/** Throws unless `dimension` is an integer in [1, maxDimension] and `metric` is `cosine` or `l2`. */
export function checkGeometry(dimension: number, metric: string, maxDimension = 65_536): void {
  if (!Number.isInteger(dimension) || dimension < 1 || dimension > maxDimension) {
    throw new InvalidArgumentError(`dimension must be an integer in [1, ${maxDimension}], got ${dimension}`);
  }
  if (metric !== 'cosine' && metric !== 'l2') throw new InvalidArgumentError(`metric must be "cosine" or "l2", got "${String(metric)}"`);
}
