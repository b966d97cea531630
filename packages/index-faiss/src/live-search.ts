// Turns raw FAISS results (positions, distances) into pixsearch neighbours: skips tombstoned
// positions, over-fetching and retrying so that k live results come back, maps positions to ids
// and converts distances to scores (higher is better).
import type { Metric, Neighbors } from '@pixsearch/core';
import type { RawResults } from './faiss-convert.js';
import type { IdMap } from './id-map.js';
import { TOMBSTONE } from './id-map.js';

/** A raw searcher: `k` nearest positions for the given query rows (1 ≤ k ≤ positions). */
export type RawSearch = (queries: Float32Array, k: number, rows: ArrayLike<number> | undefined) => Promise<RawResults> | RawResults;

/** FAISS distance → pixsearch score: inner product as is (cosine), squared L2 negated. */
export function toScore(metric: Metric, distance: number): number {
  return metric === 'cosine' ? distance : distance === 0 ? 0 : -distance;
}

/**
 * Top-`k` live neighbours for `nq` queries. The first fetch asks for k plus a margin sized by the
 * tombstone ratio; queries still short of k live results are retried with twice the fetch, until
 * the fetch covers every position or the searcher returns padding (−1: an IVF's probed lists are
 * exhausted, so fewer than k results is the honest answer).
 */
export async function searchLive(search: RawSearch, ids: IdMap, metric: Metric, queries: Float32Array, nq: number, k: number): Promise<Neighbors[]> {
  const out: Neighbors[] = Array.from({ length: nq }, () => ({ ids: [], scores: [] }));
  const want = Math.min(k, ids.size);
  if (want === 0 || nq === 0) return out;
  const positions = ids.positions;
  const dead = ids.tombstones;
  let fetch = dead === 0 ? want : Math.min(positions, want + Math.ceil((want * dead * 1.5) / ids.size) + 8);
  let pending: number[] | undefined; // undefined = all queries
  for (;;) {
    const raw = await search(queries, fetch, pending);
    const next: number[] = [];
    const count = pending ? pending.length : nq;
    for (let j = 0; j < count; j++) {
      const q = pending ? pending[j]! : j;
      const res: Neighbors = { ids: [], scores: [] };
      let padded = false;
      for (let i = 0; i < fetch && res.ids.length < want; i++) {
        const label = raw.labels[j * fetch + i]!;
        if (label < 0) {
          padded = true;
          break;
        }
        const id = ids.idAt(label);
        if (id === TOMBSTONE) continue;
        res.ids.push(id);
        res.scores.push(toScore(metric, raw.distances[j * fetch + i]!));
      }
      out[q] = res;
      if (res.ids.length < want && !padded && fetch < positions) next.push(q);
    }
    if (next.length === 0) return out;
    pending = next;
    fetch = Math.min(positions, fetch * 2);
  }
}
