/** A PGlite database with pgvector, served over the PostgreSQL wire protocol on 127.0.0.1. */
export interface PgliteServer {
  /** Connection URL (user `postgres`, no password). */
  readonly url: string;
  /** Stops the socket server and closes the database. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts PGlite (WASM PostgreSQL, in this process, in memory) with pgvector 0.8 loaded and
 * `CREATE EXTENSION vector` done, served by `@electric-sql/pglite-socket` on a free port of
 * 127.0.0.1, so node-postgres talks to it exactly as to a server.
 *
 * What it cannot show: it is one backend behind a multiplexer (no real concurrency, no isolation
 * between clients' transactions, no parallel index builds), it is several times slower than a server, and `COPY … FROM STDIN` over the
 * socket desynchronises the protocol (electric-sql/pglite#1028) — use `load: 'insert'` with it.
 */
export async function startPgliteServer(): Promise<PgliteServer> {
  const [{ PGlite }, { vector }, { PGLiteSocketServer }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite-pgvector'),
    import('@electric-sql/pglite-socket'),
  ]);
  const db = await PGlite.create({ extensions: { vector } });
  await db.exec('CREATE EXTENSION IF NOT EXISTS vector');
  // Several clients may stay connected (each open index holds a pool); pglite-socket multiplexes
  // them onto the one backend query by query, so callers must not overlap transactions.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 64 });
  try {
    await server.start();
  } catch (err) {
    await db.close();
    throw err;
  }
  const conn = server.getServerConn();
  let stopped = false;
  return {
    url: `postgres://postgres@${conn}/postgres`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
      await db.close();
    },
  };
}
