// Messages between the `exact` backend (main thread, exact-index.ts) and its shard workers
// (exact-worker.ts). Imports nothing: the worker loads it too.

/** Kernel metric names (USearch's): `ip` scores 1 − dot, `l2sq` the squared distance. */
export type KernelMetric = 'ip' | 'l2sq';

/** What a shard worker is started with (`workerData`). */
export interface ShardInit {
  dimension: number;
  metric: KernelMetric;
  /** `i8`: also keep i8 codes and scan those, re-ranking candidates with the f32 rows. */
  quantization: 'f32' | 'i8';
  /** Candidates re-ranked per result in the i8 scan: k × rerank (at least 32). */
  rerank: number;
  /** Rows per storage segment (each its own ArrayBuffer). */
  segmentRows: number;
  /** `node-gyp-build`'s path and USearch's package root, to load its addon. */
  addon: { nodeGypBuild: string; root: string };
}

export type ShardRequest =
  | { op: 'add'; ids: Float64Array; vectors: Float32Array }
  | { op: 'remove'; ids: Float64Array }
  | { op: 'has'; ids: Float64Array }
  | { op: 'search'; queries: Float32Array; k: number }
  /** Writes this shard's ids at `idsAt` and its rows at `rowsAt` (byte offsets) of file descriptor `fd`. */
  | { op: 'write'; fd: number; idsAt: number; rowsAt: number }
  /**
   * Reads rows [from, to) of a saved file holding `total` rows and keeps those whose id routes to
   * shard `shard` of `shards` (all of them when `strict`, where a row routed elsewhere is corruption).
   */
  | { op: 'load'; file: string; total: number; from: number; to: number; shard: number; shards: number; strict: boolean }
  /** Copies rows [from, from + count) out (for moving vectors into another index). */
  | { op: 'export'; from: number; count: number }
  /** Blocks the worker until `flag[0]` becomes non-zero (see ExactIndex.suspend). */
  | { op: 'hold'; flag: Int32Array };

/** Per-shard search results: `counts[q]` entries at `q × k` in `ids` / `scores`, best first. */
export interface ShardHits {
  ids: Float64Array;
  scores: Float64Array;
  counts: Int32Array;
}


/**
 * The shard an id lives in: a multiplicative hash of its 53 bits, so sequential catalog ids
 * spread evenly and one id always lands in the same shard (upserts and removals find it).
 */
export function shardOf(id: number, shards: number): number {
  if (shards === 1) return 0;
  const lo = id >>> 0;
  const hi = Math.floor(id / 4294967296) >>> 0;
  // Fibonacci hashing: the high bits of id × 2^32/φ.
  const h = Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> 0;
  return Math.floor((h * shards) / 4294967296);
}
