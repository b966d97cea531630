import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPgCluster, startPgliteServer, type PgCluster, type PgliteServer } from '../src/testing/index.js';

describe('test servers', () => {
  let cluster: PgCluster;
  let lite: PgliteServer;
  beforeAll(async () => {
    cluster = await startPgCluster();
    lite = await startPgliteServer();
  });
  afterAll(async () => {
    await cluster?.stop();
    await lite?.stop();
  });

  it('a throwaway PostgreSQL cluster answers on 127.0.0.1', async () => {
    const c = new pg.Client(cluster.url);
    await c.connect();
    const { rows } = await c.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
    await c.end();
    expect(rows[0]!.v).toMatch(/^\d+/);
  });

  it('PGlite over the socket has pgvector 0.8 and uses an HNSW index scan', async () => {
    const c = new pg.Client(lite.url);
    await c.connect();
    const { rows } = await c.query<{ extversion: string }>("SELECT extversion FROM pg_extension WHERE extname = 'vector'");
    expect(rows[0]!.extversion).toMatch(/^0\.8\./);
    await c.query('CREATE TABLE h (id bigint PRIMARY KEY, v vector(3))');
    await c.query("INSERT INTO h SELECT i, ARRAY[i, 1, 0]::real[]::vector FROM generate_series(1, 50) i");
    await c.query('CREATE INDEX ON h USING hnsw (v vector_ip_ops)');
    await c.query('BEGIN');
    await c.query('SET LOCAL enable_seqscan = off');
    const plan = await c.query<{ 'QUERY PLAN': string }>("EXPLAIN SELECT id FROM h ORDER BY v <#> '[1,0,0]' LIMIT 3");
    await c.query('COMMIT');
    await c.end();
    expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/Index Scan using h_v_idx/);
  });
});
