// The shared state and helpers every topic of the VectorIndex conformance suite uses.
import { expect, it } from 'vitest';
import type { FileVectorIndex, IndexCapabilities, Metric, Neighbors, Persistence, SearchParams, VectorIndex } from '../../vector-index.js';

/** Names of the suite's cases, for `skip`. */
export type ConformanceCase =
  | 'empty'
  | 'k-larger-than-size'
  | 'dimension-mismatch'
  | 'invalid-vectors'
  | 'invalid-ids'
  | 'search-params'
  | 'upsert'
  | 'remove'
  | 'save-load'
  | 'corrupt-files'
  | 'large-ids'
  | 'recall'
  | 'concurrent-search'
  | 'close'
  | 'l2-metric';

export interface ConformanceOptions {
  /** Backend name, used in test titles. */
  name: string;
  /** Creates an empty index (the suite closes it). Remote backends: a fresh name each call. */
  create(options: { dimension: number; metric: Metric; params?: Record<string, number | string> }): Promise<VectorIndex>;
  /** Files backends: loads a saved index (default: core's `loadIndex`). */
  load?(dir: string): Promise<VectorIndex>;
  /** Remote backends: opens the index `index` names again (after it was closed), for the persistence cases. */
  reopen?(index: VectorIndex): Promise<VectorIndex>;
  /**
   * Exact reference index for the recall case (e.g. faiss-flat); default: brute force in JS.
   * Must return true inner-product top-k.
   */
  reference?(dimension: number): Promise<VectorIndex>;
  /**
   * Cases this backend cannot do, with the reason shown in the report. Cases a backend's declared
   * capabilities rule out (`remove`, the `l2` metric, `save`/`load` for remote indexes) are skipped
   * without being listed here.
   */
  skip?: Partial<Record<ConformanceCase, string>>;
  /** Search params for the recall case (default: none, i.e. the backend's defaults). */
  recallParams?: SearchParams;
  /** Minimum recall@10 (default 0.95). */
  minRecall?: number;
  /** Tolerance when comparing returned scores with recomputed inner products (default 1e-4; quantised backends need more). */
  scoreTolerance?: number;
  /** Size of the recall dataset (default 20 000 × 512, 200 queries). */
  recallSize?: { n: number; dimension: number; queries: number };
  /** Runs once after every case, after the suite closed its indexes (drop tables, stop a server). */
  teardown?(): Promise<void> | void;
}

/** What a case may require of the backend; unmet, the case is skipped with the reason. */
export interface Requirement {
  capability?: (caps: IndexCapabilities, persistence: Persistence) => string | undefined;
}

/** The suite's shared state, handed to each topic. */
export interface Suite {
  readonly options: ConformanceOptions;
  /** Dimension of the small cases. */
  readonly dim: number;
  /** 300 clustered vectors and 10 queries of `dim` floats (set in beforeAll). */
  small(): { base: Float32Array; queries: Float32Array };
  /** A scratch folder for this suite (set in beforeAll). */
  dir(): string;
  /** A new index the suite closes at the end. */
  make(metric?: Metric, params?: Record<string, number | string>): Promise<VectorIndex>;
  /** Registers an index opened by a case so the suite closes it. */
  track<T extends VectorIndex>(index: T): T;
  /** Registers a case; skipped (with the reason) when listed in `skip` or ruled out by the backend's capabilities. */
  test(name: ConformanceCase, title: string, fn: () => Promise<void>, options?: { timeout?: number; requires?: Requirement['capability'] }): void;
}

/** Skips cases the backend's declared capabilities rule out. */
export const requires = {
  remove: (caps: IndexCapabilities): string | undefined => (caps.remove ? undefined : 'the backend declares no remove()'),
  l2: (caps: IndexCapabilities): string | undefined => (caps.metrics.includes('l2') ? undefined : `the backend declares metrics ${caps.metrics.join(', ')} only`),
  files: (_caps: IndexCapabilities, persistence: Persistence): string | undefined =>
    persistence === 'files' ? undefined : 'the backend keeps its index in a server (no files to save, load or damage)',
};

/** Builds the suite's case registrar over a lazily probed capability set. */
export function caseRegistrar(options: ConformanceOptions, probe: () => Promise<{ caps: IndexCapabilities; persistence: Persistence }>): Suite['test'] {
  return (name, title, fn, opts = {}) => {
    const listed = options.skip?.[name];
    if (listed !== undefined) {
      // A skip the backend states, with its reason in the report.
      it.skip(`${title} — skipped: ${listed}`, () => {});
      return;
    }
    it(
      title,
      async (ctx) => {
        if (opts.requires) {
          const { caps, persistence } = await probe();
          const why = opts.requires(caps, persistence);
          if (why !== undefined) {
            ctx.skip(`skipped: ${why}`);
            return;
          }
        }
        await fn();
      },
      opts.timeout,
    );
  };
}

export function expectSorted(r: Neighbors): void {
  expect(r.scores.length).toBe(r.ids.length);
  for (let i = 1; i < r.scores.length; i++) expect(r.scores[i]!).toBeLessThanOrEqual(r.scores[i - 1]! + 1e-6);
}

/** True when `id` is among the index's vectors (a search with k = size returns them all). */
export async function contains(idx: VectorIndex, id: number): Promise<boolean> {
  if (idx.size === 0) return false;
  const q = new Float32Array(idx.dimension);
  q[0] = 1;
  const [r] = await idx.search(q, idx.size);
  return r!.ids.includes(id);
}

/** The index as a `files` index (the save/load cases run only for those). */
export function asFiles(idx: VectorIndex): FileVectorIndex {
  if (idx.persistence !== 'files') throw new Error(`${idx.backend} keeps its index in a server: it has no save(dir)`);
  return idx;
}
