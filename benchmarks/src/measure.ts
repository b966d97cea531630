/**
 * Timing loops shared by the adapter and bare measurements.
 *
 * Single-query mode (ann-benchmarks): one query at a time on one thread; QPS = 1 / mean time per
 * query of the best repetition; p50/p95/p99 from that repetition. Batch mode (big-ann-benchmarks):
 * all queries in one call, all cores; QPS = queries / best wall time.
 *
 * Both loops respect a time budget so slow points (exact search over 1M vectors) stay bounded:
 * the first repetition stops early once over budget (after at least `minQueries`), later
 * repetitions use the same query count and stop once the budget is spent.
 */

/** Outcome of a single-query measurement. */
export interface SingleTiming {
  /** Queries timed per repetition (≤ all, when the budget cut the first repetition). */
  queries: number;
  /** Repetitions run. */
  reps: number;
  /** Best repetition's total time, ms. */
  bestMs: number;
  /** Per-query times of the best repetition, ms. */
  latenciesMs: Float64Array;
  /** Ids returned (last repetition), per query. */
  results: ArrayLike<number>[];
}

/** Budget knobs. */
export interface TimingBudget {
  /** Maximum repetitions (best-of). */
  reps: number;
  /** Stop starting new repetitions (and cut the first) once this much time is spent, ms. */
  budgetMs: number;
  /** Never time fewer queries than this (unless there are fewer). */
  minQueries: number;
}

/** Times `search(i)` for queries 0..nq-1, one at a time. `search` may be sync or async. */
export async function timeSingle(
  nq: number,
  search: (i: number) => ArrayLike<number> | Promise<ArrayLike<number>>,
  budget: TimingBudget,
  isAsync: boolean,
): Promise<SingleTiming> {
  const started = performance.now();
  let queries = nq;
  let bestMs = Infinity;
  let best = new Float64Array(0);
  let results: ArrayLike<number>[] = [];
  let reps = 0;
  for (let rep = 0; rep < budget.reps; rep++) {
    if (rep > 0 && performance.now() - started > budget.budgetMs) break;
    const lat = new Float64Array(queries);
    const res: ArrayLike<number>[] = new Array<ArrayLike<number>>(queries);
    let done = 0;
    if (isAsync) {
      for (let i = 0; i < queries; i++) {
        const t = performance.now();
        res[i] = await search(i);
        lat[i] = performance.now() - t;
        done++;
        if (rep === 0 && done >= budget.minQueries && performance.now() - started > budget.budgetMs) break;
      }
    } else {
      for (let i = 0; i < queries; i++) {
        const t = performance.now();
        res[i] = search(i) as ArrayLike<number>;
        lat[i] = performance.now() - t;
        done++;
        if (rep === 0 && done >= budget.minQueries && performance.now() - started > budget.budgetMs) break;
      }
    }
    if (rep === 0 && done < queries) queries = done;
    const latencies = done < lat.length ? lat.subarray(0, done) : lat;
    let total = 0;
    for (let i = 0; i < latencies.length; i++) total += latencies[i]!;
    reps++;
    if (total < bestMs) {
      bestMs = total;
      best = latencies;
    }
    results = res.slice(0, done);
  }
  return { queries, reps, bestMs, latenciesMs: best, results };
}

/** Outcome of a batch measurement. */
export interface BatchTiming {
  reps: number;
  bestMs: number;
  results: ArrayLike<number>[];
}

/** Times `search()` (all queries in one call), best of `budget.reps` within `budget.budgetMs`. */
export async function timeBatch(search: () => Promise<ArrayLike<number>[]> | ArrayLike<number>[], budget: Omit<TimingBudget, 'minQueries'>): Promise<BatchTiming> {
  const started = performance.now();
  let bestMs = Infinity;
  let results: ArrayLike<number>[] = [];
  let reps = 0;
  for (let rep = 0; rep < budget.reps; rep++) {
    if (rep > 0 && performance.now() - started > budget.budgetMs) break;
    const t = performance.now();
    results = await search();
    const ms = performance.now() - t;
    reps++;
    if (ms < bestMs) bestMs = ms;
  }
  return { reps, bestMs, results };
}
