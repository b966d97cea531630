/**
 * What a run measures: the index configurations and sweep points per dataset size and mode.
 *
 *   quick — CI smoke run: few points, one repetition, one build per backend (hnswlib with
 *           efConstruction 100, USearch f32 and i8 only) so it stays near a minute on 2 cores.
 *   full  — the published run: IVF nprobe 1 → nlist, hnswlib efSearch 10 → 800 with M 16 and 32,
 *           USearch expansion 10 → 800 for f32 / f16 / i8; best of 3 repetitions.
 * At 1M the full plan builds hnswlib with the same effort as at 100k (M 16 and 32, efConstruction
 * 200: single-threaded 1M builds of roughly 15–30 minutes each on 2 cores) and USearch f32 only.
 */
import type { BenchBackend } from './backends/index.js';
import type { BenchConfig, SweepPoint } from './backends/types.js';
import { MIN_POINTS_PER_LIST } from '@pixsearch/index-faiss';

export type RunMode = 'quick' | 'full';

/** Sweep values. */
export const EF_FULL = [10, 20, 40, 80, 120, 200, 400, 800];
export const EF_QUICK = [10, 40, 160];

/**
 * nlist for `n` vectors: a power of two (so the nprobe sweep can double up to it) near FAISS's 4·√N
 * guidance, with the adapter's minimum of training points per list.
 */
export function ivfNlist(n: number): number {
  let nlist = 2 ** Math.round(Math.log2(4 * Math.sqrt(n)));
  while (nlist > 1 && n < MIN_POINTS_PER_LIST * nlist) nlist /= 2;
  return Math.max(1, nlist);
}

function pow2Upto(max: number): number[] {
  const out: number[] = [];
  for (let v = 1; v < max; v *= 2) out.push(v);
  out.push(max);
  return out;
}

const point = (label: string, params: SweepPoint['params']): SweepPoint => ({ label, params });
const DEFAULT_POINT: SweepPoint = point('default', {});

/** Options that shape the plan. */
export interface PlanOptions {
  n: number;
  mode: RunMode;
  /** Backends to include (default all four). */
  backends?: readonly BenchBackend[];
}

/** The configurations to run, in order. */
export function planConfigs({ n, mode, backends }: PlanOptions): BenchConfig[] {
  const want = (b: BenchBackend): boolean => !backends || backends.includes(b);
  const full = mode === 'full';
  const efs = full ? EF_FULL : EF_QUICK;
  const out: BenchConfig[] = [];

  if (want('faiss-flat')) {
    out.push({ id: 'faiss-flat', backend: 'faiss-flat', label: 'faiss-flat', build: {}, sweep: [DEFAULT_POINT], overheadPoint: DEFAULT_POINT });
  }
  if (want('faiss-ivf')) {
    const nlist = ivfNlist(n);
    const probes = full ? pow2Upto(nlist) : [1, Math.max(1, nlist / 16), nlist].filter((v, i, a) => a.indexOf(v) === i);
    const sweep = [DEFAULT_POINT, ...probes.map((p) => point(`nprobe=${p}`, { nprobe: p }))];
    out.push({
      id: `faiss-ivf-nlist${nlist}`,
      backend: 'faiss-ivf',
      label: `faiss-ivf nlist=${nlist}`,
      build: { nlist },
      sweep,
      overheadPoint: point(`nprobe=${Math.max(1, nlist / 32)}`, { nprobe: Math.max(1, nlist / 32) }),
    });
  }
  if (want('hnswlib')) {
    const ms = full ? [16, 32] : [16];
    // efConstruction 200 at every size of the full run, so 1M is built with the same effort as
    // 100k (recall differences are then the size's, not the build's); 100 in the quick CI run.
    const efC = full ? 200 : 100;
    for (const M of ms) {
      out.push({
        id: `hnswlib-M${M}`,
        backend: 'hnswlib',
        label: `hnswlib M=${M} efC=${efC}`,
        build: { M, efConstruction: efC },
        sweep: [DEFAULT_POINT, ...efs.map((ef) => point(`ef=${ef}`, { efSearch: ef }))],
        overheadPoint: point('ef=40', { efSearch: 40 }),
      });
    }
  }
  if (want('usearch')) {
    // 1M: f32 only (each 1M build takes 10+ minutes on 2 cores); quick: f32 and i8.
    const quants = !full ? (['f32', 'i8'] as const) : n < 1_000_000 ? (['f32', 'f16', 'i8'] as const) : (['f32'] as const);
    for (const q of quants) {
      out.push({
        id: `usearch-${q}`,
        backend: 'usearch',
        label: `usearch ${q} M=16`,
        build: { quantization: q, connectivity: 16, expansion_add: 128 },
        sweep: [DEFAULT_POINT, ...efs.map((e) => point(`exp=${e}`, { expansion: e }))],
        overheadPoint: point('exp=40', { expansion: 40 }),
      });
    }
  }
  return out;
}
