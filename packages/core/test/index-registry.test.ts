import { describe, expect, it } from 'vitest';
import { createIndex, getBackend, InvalidArgumentError, isBackendName, BACKENDS } from '../src/index.js';

describe('backend registry', () => {
  it('knows the four backends', () => {
    expect(BACKENDS).toEqual(['faiss-flat', 'faiss-ivf', 'hnswlib', 'usearch']);
    expect(isBackendName('hnswlib')).toBe(true);
    expect(isBackendName('annoy')).toBe(false);
  });
  it('rejects unknown backends and bad options with clear errors', async () => {
    await expect(getBackend('annoy')).rejects.toThrow(/unknown backend "annoy"; choose one of faiss-flat/);
    await expect(createIndex({ backend: 'faiss-flat', dimension: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(createIndex({ backend: 'faiss-flat', dimension: 4, metric: 'dot' as 'l2' })).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
