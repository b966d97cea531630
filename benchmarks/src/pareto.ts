/** Pareto frontiers of recall@10 vs QPS (ann-benchmarks plots each algorithm's frontier). */

/** A measured point: recall in [0, 1], QPS > 0, plus whatever the caller wants to carry. */
export interface FrontierPoint<T = unknown> {
  recall: number;
  qps: number;
  data: T;
}

/**
 * The points no other point beats on both recall and QPS, sorted by recall ascending (QPS then
 * descends). Ties keep the first point seen.
 */
export function paretoFrontier<T>(points: readonly FrontierPoint<T>[]): FrontierPoint<T>[] {
  const valid = points.filter((p) => Number.isFinite(p.recall) && Number.isFinite(p.qps) && p.qps > 0);
  const byRecall = [...valid].sort((a, b) => b.recall - a.recall || b.qps - a.qps);
  const out: FrontierPoint<T>[] = [];
  let bestQps = -Infinity;
  for (const p of byRecall) {
    if (p.qps > bestQps) {
      out.push(p);
      bestQps = p.qps;
    }
  }
  return out.reverse();
}

/** The highest QPS among points with recall ≥ `minRecall`, or undefined. */
export function bestQpsAtRecall<T>(points: readonly FrontierPoint<T>[], minRecall: number): FrontierPoint<T> | undefined {
  let best: FrontierPoint<T> | undefined;
  for (const p of points) if (p.recall >= minRecall && (!best || p.qps > best.qps)) best = p;
  return best;
}
