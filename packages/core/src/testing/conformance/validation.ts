// Conformance topic: bad input — wrong dimensions, NaN/Infinity, bad ids and k, undeclared search parameters.
import { expect } from 'vitest';
import { DimensionMismatchError, InvalidArgumentError, InvalidVectorError } from '../../errors.js';
import type { ParamSpec, ParamValue } from '../../vector-index.js';
import { contains, type Suite } from './suite.js';

/** A valid value for a declared search parameter. */
function validValue(spec: ParamSpec): ParamValue {
  if (spec.type === 'boolean') return true;
  if (spec.type === 'string') return spec.values?.[0] ?? 'x';
  return Math.max(spec.min ?? 1, Math.min(spec.max ?? 64, 64));
}

export function validationCases(s: Suite): void {
  const { dim } = s;

  s.test('dimension-mismatch', 'wrong dimensions are rejected with DimensionMismatchError', async () => {
    const idx = await s.make();
    await expect(idx.add([1], new Float32Array(dim + 1))).rejects.toBeInstanceOf(DimensionMismatchError);
    await expect(idx.add([1, 2], new Float32Array(dim * 2 + 2))).rejects.toBeInstanceOf(DimensionMismatchError);
    await idx.add([1], s.small().base.subarray(0, dim));
    await expect(idx.search(new Float32Array(dim - 1), 1)).rejects.toBeInstanceOf(DimensionMismatchError);
    expect(idx.size).toBe(1);
  });

  s.test('invalid-vectors', 'NaN and Infinity are rejected with InvalidVectorError and nothing is added', async () => {
    const idx = await s.make();
    const { base, queries } = s.small();
    for (const bad of [Number.NaN, Infinity, -Infinity]) {
      const v = base.slice(0, 2 * dim);
      v[dim + 3] = bad;
      await expect(idx.add([1, 2], v)).rejects.toBeInstanceOf(InvalidVectorError);
      const q = queries.slice(0, dim);
      q[0] = bad;
      await expect(idx.search(q, 1)).rejects.toBeInstanceOf(InvalidVectorError);
    }
    expect(idx.size).toBe(0);
    expect(await contains(idx, 1)).toBe(false);
  });

  s.test('invalid-ids', 'negative, fractional and unsafe ids and bad k are rejected', async () => {
    const idx = await s.make();
    const v = s.small().base.subarray(0, dim);
    for (const id of [-1, 1.5, Number.NaN, 2 ** 53, Infinity]) {
      await expect(idx.add([id], v)).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    await expect(idx.add([1, 2], v)).rejects.toThrow();
    await idx.add([1], v);
    for (const k of [0, -3, 1.5, Number.NaN]) await expect(idx.search(v, k)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(idx.size).toBe(1);
  });

  s.test('search-params', 'declared search parameters are honoured; undeclared or out-of-range ones give InvalidArgumentError', async () => {
    const idx = await s.make();
    const { base } = s.small();
    await idx.add([1, 2, 3], base.subarray(0, 3 * dim));
    const q = base.subarray(0, dim);
    await expect(idx.search(q, 1, { notAParameter: 1 })).rejects.toBeInstanceOf(InvalidArgumentError);
    for (const spec of idx.capabilities.searchParams) {
      const [r] = await idx.search(q, 1, { [spec.name]: validValue(spec) });
      expect(r!.ids).toEqual([1]);
      if ((spec.type === 'integer' || spec.type === 'number') && spec.min !== undefined) {
        await expect(idx.search(q, 1, { [spec.name]: spec.min - 1 })).rejects.toBeInstanceOf(InvalidArgumentError);
      }
    }
  });
}
