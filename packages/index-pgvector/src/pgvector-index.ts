import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  checkGeometry,
  checkIds,
  checkK,
  checkSearchParams,
  checkVectors,
  ClosedError,
  IndexCorruptError,
  InvalidArgumentError,
  PixsearchError,
  type IndexCapabilities,
  type Metric,
  type Neighbors,
  type RemoteIndexOptions,
  type RemoteVectorIndex,
  type SearchParams,
} from '@pixsearch/core';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import pgvector from 'pgvector';
import { encodeCopyRows } from './copy-binary.js';
import { resolveParams, SEARCH_PARAMS, type PgvectorParams } from './params.js';

/** node-postgres, loaded when an index is first opened (importing the adapter, e.g. by discovery, loads no driver). */
async function loadPg(): Promise<typeof pg> {
  const mod = (await import('pg')) as typeof pg & { default?: typeof pg };
  return mod.default ?? mod;
}

/** PostgreSQL schema of the vector tables and their registry (shared with the catalog: one library, one database). */
export const VECTOR_SCHEMA = 'pixsearch';
/** Rows per add() statement / COPY batch. */
const BATCH_ROWS = 2000;
const NAME = /^[A-Za-z0-9_]{1,48}$/;

/** A filter for {@link PgvectorIndex.searchFiltered}: conditions pushed into the SQL next to the ORDER BY. */
export interface PgvectorFilter {
  /** Only these ids. */
  ids?: ArrayLike<number>;
  /** Never these ids (e.g. the query image itself). */
  excludeIds?: ArrayLike<number>;
  /**
   * Only images of the library's catalog (schema `pixsearch`, same database) whose root-relative
   * path starts with this prefix (joins `pixsearch.images`).
   */
  pathPrefix?: string;
}

type Opclass = { ops: string; op: string; score: (d: number) => number };

function opclass(metric: Metric, p: PgvectorParams): Opclass {
  const t = p.type;
  if (metric === 'l2') return { ops: `${t}_l2_ops`, op: '<->', score: (d) => -(d * d) };
  if (p.distance === 'cosine') return { ops: `${t}_cosine_ops`, op: '<=>', score: (d) => 1 - d };
  return { ops: `${t}_ip_ops`, op: '<#>', score: (d) => -d };
}

const ident = (s: string): string => `"${s.replace(/"/g, '""')}"`;

/**
 * A vector index in a PostgreSQL table with pgvector: `pixsearch.vectors_<name> (id bigint primary
 * key, embedding vector(d) | halfvec(d))` with an HNSW or IVFFlat index, registered in
 * `pixsearch.vector_indexes`. Every acknowledged `add`/`remove` is committed in the server, so the
 * index is shared by every process that opens it by name. Searches run in a transaction that sets
 * `hnsw.ef_search` / `ivfflat.probes` / iterative scans with `SET LOCAL` semantics. Owns a
 * connection pool: `close()` ends it.
 *
 * `size` is the row count read at open, kept up to date by this process's own writes; writes by
 * other processes show in searches at once and in `size` after `refresh()` / `refreshSize()`.
 */
export class PgvectorIndex implements RemoteVectorIndex {
  readonly backend = 'pgvector';
  readonly persistence = 'remote' as const;
  readonly name: string;
  readonly dimension: number;
  readonly metric: Metric;
  readonly capabilities: IndexCapabilities;
  readonly params: Readonly<Record<string, number | string>>;
  private readonly p: PgvectorParams;
  private readonly ops: Opclass;
  private readonly table: string;
  private readonly pool: pg.Pool;
  private readonly copy: boolean;
  private count: number;
  private closed = false;
  private readonly pending = new Set<Promise<unknown>>();

  private constructor(o: { name: string; dimension: number; metric: Metric; p: PgvectorParams; raw: Record<string, number | string>; pool: pg.Pool; copy: boolean; count: number }) {
    this.name = o.name;
    this.dimension = o.dimension;
    this.metric = o.metric;
    this.p = o.p;
    this.params = Object.freeze({ ...o.raw });
    this.ops = opclass(o.metric, o.p);
    this.table = `${VECTOR_SCHEMA}.${ident(`vectors_${o.name}`)}`;
    this.pool = o.pool;
    this.copy = o.copy;
    this.count = o.count;
    this.capabilities = {
      exact: o.p.index === 'none',
      remove: true,
      searchParams: SEARCH_PARAMS,
      metrics: o.p.distance === 'cosine' && o.metric === 'cosine' ? ['cosine'] : ['cosine', 'l2'],
    };
  }

  /**
   * Opens index `name` on the server at `connection`, creating its table and ANN index when
   * missing. Throws `IndexCorruptError` when it exists with another dimension, metric or column
   * type, `PixsearchError` `PGVECTOR_MISSING` when the extension cannot be created.
   */
  static async open(options: RemoteIndexOptions): Promise<PgvectorIndex> {
    checkGeometry(options.dimension, options.metric, 16_000);
    if (typeof options.name !== 'string' || !NAME.test(options.name)) {
      throw new InvalidArgumentError(`index name must be 1-48 letters, digits or _, got ${JSON.stringify(options.name)}`);
    }
    const p = resolveParams(options.params, options.dimension);
    const probe = new (await loadPg()).Client({ connectionString: options.connection, application_name: 'pixsearch-pgvector' });
    let server: string;
    try {
      await probe.connect();
      server = (await probe.query<{ v: string }>('SELECT version() AS v')).rows[0]!.v;
    } catch (cause) {
      await probe.end().catch(() => undefined);
      throw new PixsearchError('PG_CONNECT', `cannot connect to PostgreSQL for the pgvector index "${options.name}": ${(cause as Error).message}`, { cause });
    }
    await probe.end();
    // PGlite (WASM, served by pglite-socket) is one backend: one connection, and no COPY FROM STDIN over the socket.
    const pglite = /PGlite|emscripten/i.test(server);
    const pool = new (await loadPg()).Pool({ connectionString: options.connection, max: pglite ? 1 : p.connections, application_name: 'pixsearch-pgvector' });
    pool.on('error', () => undefined);
    try {
      const count = await PgvectorIndex.ensureSchema(pool, options, p);
      return new PgvectorIndex({
        name: options.name,
        dimension: options.dimension,
        metric: options.metric,
        p,
        raw: { ...options.params },
        pool,
        copy: p.load === 'copy' || (p.load === 'auto' && !pglite),
        count,
      });
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
  }

  /** Creates the extension, schema, registry row, table and index as needed (under an advisory lock); returns the row count. */
  private static async ensureSchema(pool: pg.Pool, o: RemoteIndexOptions, p: PgvectorParams): Promise<number> {
    const c = await pool.connect();
    const table = `${VECTOR_SCHEMA}.${ident(`vectors_${o.name}`)}`;
    try {
      await c.query('BEGIN');
      await c.query("SELECT pg_advisory_xact_lock(hashtext('pixsearch.vector_indexes'))");
      try {
        await c.query('CREATE EXTENSION IF NOT EXISTS vector');
      } catch (cause) {
        throw new PixsearchError('PGVECTOR_MISSING', `the PostgreSQL server has no pgvector extension: ${(cause as Error).message}`, {
          cause,
          hint: 'install pgvector 0.8+ on the server (e.g. the postgresql-NN-pgvector package) and allow CREATE EXTENSION vector, or use a local backend (pixsearch index --db … --backend faiss-flat)',
        });
      }
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${VECTOR_SCHEMA}`);
      await c.query(`CREATE TABLE IF NOT EXISTS ${VECTOR_SCHEMA}.vector_indexes (
        name text PRIMARY KEY, dimension integer NOT NULL, metric text NOT NULL, type text NOT NULL, params jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`);
      const existing = (await c.query<{ dimension: number; metric: string; type: string }>(`SELECT dimension, metric, type FROM ${VECTOR_SCHEMA}.vector_indexes WHERE name = $1`, [o.name])).rows[0];
      if (existing) {
        if (existing.dimension !== o.dimension || existing.metric !== o.metric || existing.type !== p.type) {
          throw new IndexCorruptError(
            `pgvector:${o.name}`,
            `the index exists with dimension ${existing.dimension}, metric ${existing.metric}, type ${existing.type}; asked for ${o.dimension}, ${o.metric}, ${p.type}`,
          );
        }
      } else {
        await c.query(`INSERT INTO ${VECTOR_SCHEMA}.vector_indexes (name, dimension, metric, type, params) VALUES ($1, $2, $3, $4, $5)`, [
          o.name,
          o.dimension,
          o.metric,
          p.type,
          JSON.stringify(o.params),
        ]);
        await c.query(`CREATE TABLE IF NOT EXISTS ${table} (id bigint PRIMARY KEY, embedding ${p.type}(${o.dimension}) NOT NULL)`);
        if (p.index === 'hnsw') {
          const { ops } = opclass(o.metric, p);
          await c.query(`CREATE INDEX IF NOT EXISTS ${ident(`vectors_${o.name}_hnsw`)} ON ${table} USING hnsw (embedding ${ops}) WITH (m = ${p.m}, ef_construction = ${p.ef_construction})`);
        }
      }
      await c.query('COMMIT');
      return (await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n as unknown as number;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  /** Deletes index `name` (its table and registry row); nothing when it does not exist. */
  static async drop(options: { name: string; connection: string }): Promise<void> {
    if (!NAME.test(options.name)) throw new InvalidArgumentError(`index name must be 1-48 letters, digits or _, got ${JSON.stringify(options.name)}`);
    const c = new (await loadPg()).Client({ connectionString: options.connection });
    await c.connect();
    try {
      await c.query('BEGIN');
      const has = (await c.query<{ t: string | null }>(`SELECT to_regclass('${VECTOR_SCHEMA}.vector_indexes')::text AS t`)).rows[0]!.t;
      if (has) await c.query(`DELETE FROM ${VECTOR_SCHEMA}.vector_indexes WHERE name = $1`, [options.name]);
      await c.query(`DROP TABLE IF EXISTS ${VECTOR_SCHEMA}.${ident(`vectors_${options.name}`)}`);
      await c.query('COMMIT');
    } finally {
      await c.end();
    }
  }

  get size(): number {
    return this.closed ? 0 : Number(this.count);
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError(`pgvector index ${this.name}`);
  }

  /** Runs `fn` as a tracked operation (close() waits for it). */
  private track<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new ClosedError(`pgvector index ${this.name}`));
    const p = fn();
    this.pending.add(p);
    const done = () => this.pending.delete(p);
    p.then(done, done);
    return p;
  }

  private async withClient<T>(fn: (c: pg.PoolClient) => Promise<T>, transaction = true): Promise<T> {
    const c = await this.pool.connect();
    try {
      if (!transaction) return await fn(c);
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      if (transaction) await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  add(ids: ArrayLike<number>, vectors: Float32Array): Promise<void> {
    return this.track(async () => {
      this.assertOpen();
      checkIds(ids);
      const rows = checkVectors(vectors, this.dimension, ids.length);
      if (rows === 0) return;
      // The last occurrence of an id wins (one statement cannot upsert the same row twice).
      const last = new Map<number, number>();
      for (let i = 0; i < rows; i++) last.set(ids[i]!, i);
      const order = [...last.values()].sort((a, b) => a - b);
      let inserted = 0;
      await this.withClient(async (c) => {
        for (let start = 0; start < order.length; start += BATCH_ROWS) {
          const part = order.slice(start, start + BATCH_ROWS);
          const bIds = part.map((i) => ids[i]!);
          const bVec = new Float32Array(part.length * this.dimension);
          part.forEach((i, k) => bVec.set(vectors.subarray(i * this.dimension, (i + 1) * this.dimension), k * this.dimension));
          inserted += this.copy ? await this.copyBatch(c, bIds, bVec) : await this.insertBatch(c, bIds, bVec);
        }
        await this.maybeBuildIvfflat(c, Number(this.count) + inserted);
      });
      this.count = Number(this.count) + inserted;
    });
  }

  /** Upserts through a binary COPY into a temporary staging table; returns the number of new ids. */
  private async copyBatch(c: pg.PoolClient, ids: number[], vectors: Float32Array): Promise<number> {
    await c.query('CREATE TEMP TABLE IF NOT EXISTS pixsearch_stage (id bigint, v real[]) ON COMMIT DELETE ROWS');
    await c.query('TRUNCATE pixsearch_stage');
    await pipeline(Readable.from([encodeCopyRows(ids, vectors, this.dimension)]), c.query(copyFrom('COPY pixsearch_stage (id, v) FROM STDIN (FORMAT binary)')));
    const res = await c.query<{ inserted: boolean }>(
      `INSERT INTO ${this.table} (id, embedding) SELECT id, v::${this.p.type}(${this.dimension}) FROM pixsearch_stage
       ON CONFLICT (id) DO UPDATE SET embedding = excluded.embedding RETURNING (xmax = 0) AS inserted`,
    );
    return res.rows.filter((r) => r.inserted).length;
  }

  /** Upserts with one multi-row INSERT (text vectors); returns the number of new ids. */
  private async insertBatch(c: pg.PoolClient, ids: number[], vectors: Float32Array): Promise<number> {
    const texts = ids.map((_, i) => pgvector.toSql(Array.from(vectors.subarray(i * this.dimension, (i + 1) * this.dimension))));
    const res = await c.query<{ inserted: boolean }>(
      `INSERT INTO ${this.table} (id, embedding) SELECT a.id, a.v::${this.p.type}(${this.dimension}) FROM unnest($1::bigint[], $2::text[]) AS a(id, v)
       ON CONFLICT (id) DO UPDATE SET embedding = excluded.embedding RETURNING (xmax = 0) AS inserted`,
      [ids, texts],
    );
    return res.rows.filter((r) => r.inserted).length;
  }

  /** IVFFlat trains its lists on the rows present: build it once the table holds `lists` rows (until then searches are exact). */
  private async maybeBuildIvfflat(c: pg.PoolClient, rows: number): Promise<void> {
    if (this.p.index !== 'ivfflat' || rows < this.p.lists) return;
    const idx = ident(`vectors_${this.name}_ivfflat`);
    const exists = (await c.query<{ t: string | null }>(`SELECT to_regclass($1)::text AS t`, [`${VECTOR_SCHEMA}.${idx}`])).rows[0]!.t;
    if (!exists) await c.query(`CREATE INDEX IF NOT EXISTS ${idx} ON ${this.table} USING ivfflat (embedding ${this.ops.ops}) WITH (lists = ${this.p.lists})`);
  }

  remove(ids: ArrayLike<number>): Promise<number> {
    return this.track(async () => {
      this.assertOpen();
      checkIds(ids);
      if (ids.length === 0) return 0;
      const res = await this.pool.query(`DELETE FROM ${this.table} WHERE id = ANY($1::bigint[])`, [Array.from(ids)]);
      const n = res.rowCount ?? 0;
      this.count = Number(this.count) - n;
      return n;
    });
  }

  search(queries: Float32Array, k: number, params?: SearchParams): Promise<Neighbors[]> {
    return this.searchFiltered(queries, k, undefined, params);
  }

  /**
   * Like `search`, with conditions pushed into the SQL. pgvector 0.8's iterative index scans
   * (`iterative_scan`, default `relaxed_order`) keep reading the HNSW/IVFFlat index until `k` rows
   * pass the filter, instead of filtering the first `ef_search` candidates down to fewer than `k`.
   */
  searchFiltered(queries: Float32Array, k: number, filter?: PgvectorFilter, params?: SearchParams): Promise<Neighbors[]> {
    return this.track(async () => {
      this.assertOpen();
      const sp = checkSearchParams('pgvector', SEARCH_PARAMS, params);
      checkK(k);
      const n = checkVectors(queries, this.dimension);
      if (n === 0) return [];
      if (Number(this.count) === 0 && !filter) return Array.from({ length: n }, () => ({ ids: [], scores: [] }));
      const conds: string[] = [];
      const args: unknown[] = [null, k];
      if (filter?.ids) {
        checkIds(filter.ids);
        args.push(Array.from(filter.ids));
        conds.push(`v.id = ANY($${args.length}::bigint[])`);
      }
      if (filter?.excludeIds && filter.excludeIds.length > 0) {
        checkIds(filter.excludeIds);
        args.push(Array.from(filter.excludeIds));
        conds.push(`v.id <> ALL($${args.length}::bigint[])`);
      }
      let join = '';
      if (filter?.pathPrefix !== undefined) {
        args.push(filter.pathPrefix);
        join = ` JOIN ${VECTOR_SCHEMA}.images i ON i.id = v.id`;
        conds.push(`starts_with(i.rel_path, $${args.length})`);
      }
      const where = conds.length > 0 ? ` WHERE ${conds.join(' AND ')}` : '';
      const dist = `v.embedding ${this.ops.op} $1::${this.p.type}(${this.dimension})`;
      const sql = `SELECT v.id, (${dist})::float8 AS d FROM ${this.table} v${join}${where} ORDER BY ${dist} LIMIT $2`;
      // k at least the whole table: an exact scan is both cheaper and complete.
      const exact = this.p.index === 'none' || (!filter && k >= Number(this.count));
      const ef = Math.min(1000, Math.max(Number(sp.ef_search ?? 40), k));
      const iterative = String(sp.iterative_scan ?? 'relaxed_order');
      return this.withClient(async (c) => {
        if (exact) {
          await c.query("SELECT set_config('enable_indexscan', 'off', true)");
        } else if (this.p.index === 'hnsw') {
          await c.query("SELECT set_config('hnsw.ef_search', $1, true), set_config('hnsw.iterative_scan', $2, true), set_config('hnsw.max_scan_tuples', $3, true)", [
            String(ef),
            iterative,
            String(sp.max_scan_tuples ?? 20000),
          ]);
        } else {
          await c.query("SELECT set_config('ivfflat.probes', $1, true), set_config('ivfflat.iterative_scan', $2, true)", [String(sp.probes ?? 1), iterative]);
        }
        const out: Neighbors[] = [];
        for (let q = 0; q < n; q++) {
          args[0] = pgvector.toSql(Array.from(queries.subarray(q * this.dimension, (q + 1) * this.dimension)));
          const { rows } = await c.query<{ id: number | string; d: number }>(sql, args);
          // relaxed_order may return rows slightly out of order: sort by score.
          const scored = rows.map((r) => ({ id: Number(r.id), s: this.ops.score(r.d) })).sort((a, b) => b.s - a.s || a.id - b.id);
          out.push({ ids: scored.map((r) => r.id), scores: scored.map((r) => r.s) });
        }
        return out;
      });
    });
  }

  /** Re-reads the row count (after writes by other processes). */
  refreshSize(): Promise<number> {
    return this.track(async () => {
      const { rows } = await this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.table}`);
      this.count = Number(rows[0]!.n);
      return this.count;
    });
  }

  /** Re-reads what other processes changed: the row count (`RemoteVectorIndex.refresh`). */
  async refresh(): Promise<void> {
    await this.refreshSize();
  }

  /** Every acknowledged write is committed in the server already. */
  async flush(): Promise<void> {
    this.assertOpen();
    await Promise.allSettled([...this.pending]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.pending]);
    await this.pool.end();
  }
}
