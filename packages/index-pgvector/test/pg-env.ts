import pg from 'pg';
import { startPgCluster, startPgliteServer, type PgCluster, type PgliteServer } from '../src/testing/index.js';

/**
 * Test servers. `PIXSEARCH_TEST_PG_URL` (a real server with pgvector; its user may create
 * databases) replaces both the throwaway cluster and PGlite, so the same suites run against it.
 */
export const externalUrl = process.env.PIXSEARCH_TEST_PG_URL || undefined;

/** A plain PostgreSQL server (catalog, job queue): the throwaway postgresql-15 cluster, or the external server. */
export async function plainServer(): Promise<{ url: string; stop(): Promise<void> }> {
  if (externalUrl) return { url: externalUrl, stop: async () => undefined };
  const c: PgCluster = await startPgCluster();
  return c;
}

/** A server with pgvector: PGlite over a socket, or the external server. */
export async function vectorServer(): Promise<{ url: string; stop(): Promise<void>; pglite: boolean }> {
  if (externalUrl) return { url: externalUrl, stop: async () => undefined, pglite: false };
  const s: PgliteServer = await startPgliteServer();
  return { url: s.url, stop: () => s.stop(), pglite: true };
}

let counter = 0;
/** Creates a fresh database on the server at `url` and returns its URL (dropped with the cluster, or by `dropDatabase`). */
export async function freshDatabase(url: string, label: string): Promise<string> {
  const name = `px_${label}_${process.pid}_${++counter}_${Date.now().toString(36)}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const c = new pg.Client(url);
  await c.connect();
  try {
    await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}
