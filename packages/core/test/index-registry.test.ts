import { describe, expect, it } from 'vitest';
import {
  checkNoSecrets,
  checkSearchParams,
  createIndex,
  getBackend,
  InvalidArgumentError,
  listBackends,
  registerBackend,
  type ParamSpec,
} from '../src/index.js';

describe('backend registry', () => {
  it('discovers the adapter packages next to core (they register themselves)', async () => {
    const names = (await listBackends()).map((f) => f.name);
    for (const n of ['faiss-flat', 'faiss-ivf', 'hnswlib', 'usearch']) expect(names).toContain(n);
    const ivf = await getBackend('faiss-ivf');
    expect(ivf.persistence).toBe('files');
    expect(ivf.capabilities.searchParams.map((p) => p.name)).toEqual(['nprobe']);
  });
  it('rejects unknown backends and bad options with clear errors', async () => {
    await expect(getBackend('annoy')).rejects.toThrow(/unknown backend "annoy"; registered: .*faiss-flat/);
    await expect(createIndex({ backend: 'faiss-flat', dimension: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(createIndex({ backend: 'faiss-flat', dimension: 4, metric: 'dot' as 'l2' })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(() => registerBackend({ name: 'Bad Name' } as never)).toThrow(InvalidArgumentError);
  });
  it('never lets a secret into saved parameters', async () => {
    expect(() => checkNoSecrets('x', { url: 'postgres://u:p@h/db' })).toThrow(/environment variable/);
    expect(() => checkNoSecrets('x', { password: 'hunter2' })).toThrow(InvalidArgumentError);
    expect(() => checkNoSecrets('x', { target: 'postgres://u:p@h/db' })).toThrow(InvalidArgumentError);
    expect(() => checkNoSecrets('x', { M: 16, quantization: 'f16' })).not.toThrow();
    await expect(createIndex({ backend: 'faiss-flat', dimension: 4, params: { token: 'abc' } })).rejects.toThrow(/secret/);
  });
});

describe('search parameters', () => {
  const specs: ParamSpec[] = [
    { name: 'ef', type: 'integer', min: 1, max: 100, description: 'candidates' },
    { name: 'mode', type: 'string', values: ['strict', 'relaxed'], description: 'scan mode' },
    { name: 'iterative', type: 'boolean', description: 'flag' },
  ];
  it('accepts declared parameters, converting numeric strings and flags', () => {
    expect(checkSearchParams('b', specs, { ef: '12', mode: 'relaxed', iterative: 'true' })).toEqual({ ef: 12, mode: 'relaxed', iterative: true });
    expect(checkSearchParams('b', specs, undefined)).toEqual({});
  });
  it('rejects unknown keys, wrong types and out-of-range values, naming what the backend accepts', () => {
    expect(() => checkSearchParams('b', specs, { nprobe: 4 })).toThrow(/no search parameter "nprobe"; it accepts ef, mode, iterative/);
    expect(() => checkSearchParams('flat', [], { nprobe: 4 })).toThrow(/it takes none/);
    expect(() => checkSearchParams('b', specs, { ef: 0 })).toThrow(/integer in 1..100/);
    expect(() => checkSearchParams('b', specs, { ef: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => checkSearchParams('b', specs, { mode: 'fast' })).toThrow(/one of strict, relaxed/);
    expect(() => checkSearchParams('b', specs, { iterative: 'yes' })).toThrow(/true or false/);
  });
});
