/**
 * The VectorIndex conformance suite, split by topic (search, validation, mutation, persistence,
 * quality, lifecycle). Every adapter package runs it against itself from a tiny test file:
 *
 *   describeVectorIndexConformance({ name: 'hnswlib', create: (o) => createIndex({ backend: 'hnswlib', ...o }) });
 *
 * Cases the backend's declared capabilities rule out (no `remove`, no `l2`, no files to save for a
 * remote index) are skipped with that reason; anything else a backend cannot do is listed in
 * `skip` with a reason. `teardown` runs after the suite closed every index it opened.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import type { IndexCapabilities, Metric, Persistence, VectorIndex } from '../../vector-index.js';
import { clusteredDataset } from '../datasets.js';
import { lifecycleCases } from './lifecycle.js';
import { mutationCases } from './mutation.js';
import { persistenceCases } from './persistence.js';
import { qualityCases } from './quality.js';
import { searchCases } from './search.js';
import { caseRegistrar, type ConformanceOptions, type Suite } from './suite.js';
import { validationCases } from './validation.js';

export type { ConformanceCase, ConformanceOptions } from './suite.js';

/** Registers the suite's tests in the current vitest file. */
export function describeVectorIndexConformance(options: ConformanceOptions): void {
  const dim = 16;
  const opened: VectorIndex[] = [];
  let dir: string | undefined;
  let small: { base: Float32Array; queries: Float32Array } | undefined;
  let probed: Promise<{ caps: IndexCapabilities; persistence: Persistence }> | undefined;
  const track = <T extends VectorIndex>(index: T): T => {
    opened.push(index);
    return index;
  };
  const suite: Suite = {
    options,
    dim,
    small: () => small!,
    dir: () => dir!,
    track,
    make: async (metric: Metric = 'cosine', params?: Record<string, number | string>) =>
      track(await options.create({ dimension: dim, metric, ...(params ? { params } : {}) })),
    // Declared capabilities of an index as the suite creates it (cosine, default parameters).
    test: caseRegistrar(options, () => {
      probed ??= options.create({ dimension: dim, metric: 'cosine' }).then((idx) => {
        track(idx);
        return { caps: idx.capabilities, persistence: idx.persistence };
      });
      return probed;
    }),
  };

  describe(`VectorIndex conformance: ${options.name}`, () => {
    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), `pixsearch-conf-${options.name}-`));
      small = clusteredDataset(300, dim, 10, 7);
    });
    afterAll(async () => {
      for (const idx of opened.splice(0)) await idx.close();
      if (dir) await rm(dir, { recursive: true, force: true });
      await options.teardown?.();
    });

    describe('search', () => searchCases(suite));
    describe('validation', () => validationCases(suite));
    describe('mutation', () => mutationCases(suite));
    describe('persistence', () => persistenceCases(suite));
    describe('quality', () => qualityCases(suite));
    describe('lifecycle', () => lifecycleCases(suite));
  });
}
