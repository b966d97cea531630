import { createIndex, IndexCorruptError, InvalidArgumentError } from '@pixsearch/core';
import { clusteredDataset } from '@pixsearch/core/testing';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCopyRows, PgvectorIndex, PGVECTOR_CONNECTION_ENV } from '../src/index.js';
import { plainServer, vectorServer } from './pg-env.js';

let server: Awaited<ReturnType<typeof vectorServer>>;
const opened: PgvectorIndex[] = [];
beforeAll(async () => {
  server = await vectorServer();
});
afterAll(async () => {
  for (const i of opened) await i.close();
  await server?.stop();
});

const DIM = 8;
async function open(name: string, params: Record<string, number | string> = {}, metric: 'cosine' | 'l2' = 'cosine'): Promise<PgvectorIndex> {
  const idx = await PgvectorIndex.open({ name, dimension: DIM, metric, params, connection: server.url });
  opened.push(idx);
  return idx;
}

describe('pgvector adapter', () => {
  it('is addressed by name: a second opener sees the same vectors; a different geometry is refused; drop deletes it', async () => {
    const data = clusteredDataset(50, DIM, 5, 3);
    const a = await open('shared');
    await a.add(
      Array.from({ length: 50 }, (_, i) => i),
      data.base,
    );
    const b = await open('shared');
    expect(b.size).toBe(50);
    const [r] = await b.search(data.base.subarray(7 * DIM, 8 * DIM), 1);
    expect(r!.ids).toEqual([7]);
    await expect(PgvectorIndex.open({ name: 'shared', dimension: DIM + 1, metric: 'cosine', params: {}, connection: server.url })).rejects.toBeInstanceOf(IndexCorruptError);
    await expect(PgvectorIndex.open({ name: 'shared', dimension: DIM, metric: 'l2', params: {}, connection: server.url })).rejects.toBeInstanceOf(IndexCorruptError);
    await a.remove([7]);
    expect(await b.refreshSize()).toBe(49);
    await PgvectorIndex.drop({ name: 'shared', connection: server.url });
    const c = await open('shared');
    expect(c.size).toBe(0);
    await expect(PgvectorIndex.open({ name: 'bad-name;', dimension: DIM, metric: 'cosine', params: {}, connection: server.url })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(open('p', { index: 'annoy' })).rejects.toThrow(/must be one of hnsw, ivfflat, none/);
    await expect(open('p', { nlist: 3 })).rejects.toThrow(/no build parameter "nlist"/);
  });

  it('ids up to 2^53-1 round-trip; upserts within one batch keep the last vector', async () => {
    const data = clusteredDataset(6, DIM, 2, 9);
    const idx = await open('large_ids', { index: 'none' });
    const ids = [0, 2 ** 32 + 7, 2 ** 40, Number.MAX_SAFE_INTEGER, 5, 5];
    await idx.add(ids, data.base);
    expect(idx.size).toBe(5);
    for (const i of [0, 1, 2, 3, 5]) {
      const [r] = await idx.search(data.base.subarray(i * DIM, (i + 1) * DIM), 1);
      expect(r!.ids[0]).toBe(ids[i]);
    }
    expect(await idx.remove([Number.MAX_SAFE_INTEGER])).toBe(1);
  });

  it('filtered searches use iterative index scans: k rows pass a filter that the first ef_search candidates do not', async () => {
    const n = 2000;
    const data = clusteredDataset(n, DIM, 4, 11);
    const idx = await open('filtered', { m: 8, ef_construction: 32 });
    const ids = Array.from({ length: n }, (_, i) => i);
    await idx.add(ids, data.base);
    // Only every 20th id passes (the rest excluded: a condition no B-tree serves, so the HNSW index
    // drives the scan): the first ef_search = 10 candidates hold about one of them.
    const excluded = ids.filter((i) => i % 20 !== 0);
    const q = data.base.subarray(3 * DIM, 4 * DIM);
    const [it0] = await idx.searchFiltered(q, 10, { excludeIds: excluded }, { ef_search: 10, iterative_scan: 'relaxed_order' });
    expect(it0!.ids).toHaveLength(10);
    for (const id of it0!.ids) expect(id % 20).toBe(0);
    const [off] = await idx.searchFiltered(q, 10, { excludeIds: excluded }, { ef_search: 10, iterative_scan: 'off' });
    expect(off!.ids.length).toBeLessThan(10);
    const [ex] = await idx.searchFiltered(q, 5, { excludeIds: [3] });
    expect(ex!.ids).not.toContain(3);
    await expect(idx.search(q, 5, { nprobe: 3 })).rejects.toThrow(/no search parameter "nprobe"/);
    await expect(idx.search(q, 5, { ef_search: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('per-search settings are transaction-local (SET LOCAL) and the HNSW index is used', async () => {
    const data = clusteredDataset(300, DIM, 4, 5);
    const idx = await open('local');
    await idx.add(
      Array.from({ length: 300 }, (_, i) => i),
      data.base,
    );
    await idx.search(data.queries.subarray(0, DIM), 5, { ef_search: 123 });
    const c = new pg.Client(server.url);
    await c.connect();
    try {
      // A session that ran no search keeps the default, and so does the pool's connection (checked via a new search's plan).
      expect((await c.query<{ v: string }>("SELECT current_setting('hnsw.ef_search') AS v")).rows[0]!.v).toBe('40');
      await c.query('BEGIN');
      await c.query("SELECT set_config('enable_seqscan', 'off', true)");
      const plan = await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN SELECT id FROM pixsearch.vectors_local ORDER BY embedding <#> $1::vector(${DIM}) LIMIT 5`, [
        `[${Array.from(data.queries.subarray(0, DIM)).join(',')}]`,
      ]);
      await c.query('COMMIT');
      expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/Index Scan using vectors_local_hnsw/);
    } finally {
      await c.end();
    }
  });

  it('createIndex reads the connection from the environment and refuses secrets in parameters', async () => {
    const before = process.env[PGVECTOR_CONNECTION_ENV];
    process.env[PGVECTOR_CONNECTION_ENV] = server.url;
    try {
      const idx = await createIndex({ backend: 'pgvector', dimension: DIM, name: 'by_env' });
      opened.push(idx as PgvectorIndex);
      expect(idx.persistence).toBe('remote');
      expect(JSON.stringify(idx.params)).not.toContain('127.0.0.1');
      await expect(createIndex({ backend: 'pgvector', dimension: DIM, name: 'x', params: { url: 'postgres://u:p@h/db' } })).rejects.toBeInstanceOf(InvalidArgumentError);
    } finally {
      if (before === undefined) delete process.env[PGVECTOR_CONNECTION_ENV];
      else process.env[PGVECTOR_CONNECTION_ENV] = before;
    }
  });
});

describe('binary COPY encoding', () => {
  it('round-trips ids and float4 arrays through COPY FROM STDIN (FORMAT binary) on a real PostgreSQL', async () => {
    const plain = await plainServer();
    const c = new pg.Client(plain.url);
    await c.connect();
    try {
      await c.query('CREATE TEMP TABLE stage (id bigint, v real[])');
      const vectors = new Float32Array([1.5, -0, 3.25e-20, Math.PI, -1, 2, 65504, 1e30]);
      const ids = [Number.MAX_SAFE_INTEGER, 0];
      await pipeline(Readable.from([encodeCopyRows(ids, vectors, 4)]), c.query(copyFrom('COPY stage (id, v) FROM STDIN (FORMAT binary)')));
      const { rows } = await c.query<{ id: string; v: number[] }>('SELECT id::text, v FROM stage ORDER BY id');
      expect(rows.map((r) => r.id)).toEqual(['0', String(Number.MAX_SAFE_INTEGER)]);
      expect(Float32Array.from(rows[1]!.v)).toEqual(vectors.subarray(0, 4));
      expect(Float32Array.from(rows[0]!.v)).toEqual(vectors.subarray(4, 8));
    } finally {
      await c.end();
      await plain.stop();
    }
  });
});
