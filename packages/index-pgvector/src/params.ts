import { checkParam, InvalidArgumentError, type ParamSpec } from '@pixsearch/core';

/** Build parameters of the pgvector backend (saved with the library: never connection settings). */
export const BUILD_PARAMS: readonly ParamSpec[] = [
  { name: 'index', type: 'string', values: ['hnsw', 'ivfflat', 'none'], default: 'hnsw', description: 'approximate index: HNSW, IVFFlat (built once the table holds `lists` rows), or none (exact scans)' },
  { name: 'type', type: 'string', values: ['vector', 'halfvec'], default: 'vector', description: 'column type: float32 `vector`, or float16 `halfvec` (half the storage and index size)' },
  { name: 'distance', type: 'string', values: ['ip', 'cosine'], default: 'ip', description: 'cosine metric: inner product on unit vectors (<#>), or pgvector cosine distance (<=>)' },
  { name: 'm', type: 'integer', min: 2, max: 100, default: 16, description: 'HNSW: max connections per layer' },
  { name: 'ef_construction', type: 'integer', min: 4, max: 1000, default: 64, description: 'HNSW: candidate list size while building' },
  { name: 'lists', type: 'integer', min: 1, max: 32768, default: 100, description: 'IVFFlat: number of inverted lists (rows/1000 up to 1M rows is pgvector’s rule of thumb)' },
  { name: 'load', type: 'string', values: ['auto', 'copy', 'insert'], default: 'auto', description: 'bulk loads: binary COPY into a staging table, or multi-row INSERT (auto: COPY unless the server is PGlite)' },
  { name: 'connections', type: 'integer', min: 1, max: 64, default: 4, description: 'connection pool size of this process (auto: 1 on PGlite)' },
];

/** Per-search parameters (set with `set_config(…, true)`, i.e. `SET LOCAL`, inside the search's transaction). */
export const SEARCH_PARAMS: readonly ParamSpec[] = [
  { name: 'ef_search', type: 'integer', min: 1, max: 1000, default: 40, description: 'HNSW: hnsw.ef_search (raised to k when k is larger)' },
  { name: 'probes', type: 'integer', min: 1, max: 32768, default: 1, description: 'IVFFlat: ivfflat.probes' },
  { name: 'iterative_scan', type: 'string', values: ['off', 'relaxed_order', 'strict_order'], default: 'relaxed_order', description: 'pgvector 0.8 iterative index scans (filtered searches and k above ef_search keep scanning until k rows pass)' },
  { name: 'max_scan_tuples', type: 'integer', min: 1, max: 2147483647, default: 20000, description: 'HNSW: hnsw.max_scan_tuples for iterative scans' },
];

export interface PgvectorParams {
  index: 'hnsw' | 'ivfflat' | 'none';
  type: 'vector' | 'halfvec';
  distance: 'ip' | 'cosine';
  m: number;
  ef_construction: number;
  lists: number;
  load: 'auto' | 'copy' | 'insert';
  connections: number;
}

/** Validates build parameters (unknown keys are a `RangeError`-style `InvalidArgumentError`) and fills in defaults. */
export function resolveParams(raw: Record<string, number | string>, dimension: number): PgvectorParams {
  const out: Record<string, number | string | boolean> = {};
  for (const spec of BUILD_PARAMS) out[spec.name] = spec.default!;
  for (const [key, value] of Object.entries(raw)) {
    const spec = BUILD_PARAMS.find((s) => s.name === key);
    if (!spec) throw new InvalidArgumentError(`the pgvector backend has no build parameter "${key}"; it accepts ${BUILD_PARAMS.map((s) => s.name).join(', ')}`);
    out[key] = checkParam(spec, value, `build parameter ${key} of pgvector`);
  }
  const p = out as unknown as PgvectorParams;
  // pgvector's limits on indexed columns.
  const max = p.type === 'halfvec' ? 4000 : 2000;
  if (p.index !== 'none' && dimension > max) {
    throw new InvalidArgumentError(`pgvector indexes ${p.type} columns of up to ${max} dimensions, got ${dimension}`, { hint: p.type === 'vector' ? 'use type=halfvec (up to 4000)' : undefined });
  }
  return p;
}
