import { createRequire } from 'node:module';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';

/** A query result as the synchronous client returns it (node-postgres' `rows` and `rowCount`). */
export interface SyncResult<R> {
  rows: R[];
  rowCount: number;
}

/** An error raised by the server (or the connection), with PostgreSQL's SQLSTATE `code` when there is one. */
export class PgQueryError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'PgQueryError';
  }
}

/**
 * The worker: one node-postgres `Client` on one connection. Each request runs one query; the
 * reply is posted, then the shared flag is raised and notified so the blocked caller wakes.
 * int8 (bigint, count) is parsed to a JS number: every id and count pixsearch stores is ≤ 2^53.
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const port = workerData.port;
const flag = new Int32Array(workerData.flag);
const reply = (msg) => { port.postMessage(msg); Atomics.store(flag, 0, 1); Atomics.notify(flag, 0); };
let broken = null;
let client = null;
let ready = Promise.resolve();
// Whatever goes wrong in here must still answer the blocked caller.
process.on('uncaughtException', (err) => { broken = err; reply({ error: { message: 'PostgreSQL worker thread: ' + err.message } }); });
try {
  const pg = require(workerData.pgPath);
  pg.types.setTypeParser(20, (v) => Number(v));
  pg.types.setTypeParser(1700, (v) => Number(v));
  client = new pg.Client({ connectionString: workerData.url, application_name: workerData.name });
  client.on('error', (err) => { broken = err; });
  ready = client.connect().catch((err) => { broken = err; });
} catch (err) { broken = err; }
port.on('message', async (req) => {
  await ready;
  if (req.close) {
    if (client) await client.end().catch(() => undefined);
    reply({ ok: true });
    port.close();
    return;
  }
  if (broken) { reply({ error: { message: 'connection to PostgreSQL failed: ' + broken.message, code: broken.code } }); return; }
  try {
    const values = (req.params || []).map((v) => (v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v));
    const res = await client.query({ text: req.sql, values });
    reply({ ok: true, rows: res.rows || [], rowCount: res.rowCount || 0 });
  } catch (err) {
    reply({ error: { message: err.message, code: err.code } });
  }
});
`;

/**
 * A synchronous PostgreSQL client: node-postgres runs in a worker thread and each call blocks
 * the calling thread (`Atomics.wait`) until the reply arrives (`receiveMessageOnPort`) — the way
 * better-sqlite3 blocks for SQLite. It lets {@link PostgresCatalog} implement core's synchronous
 * `Catalog` interface. One connection: statements run in call order, so `BEGIN … COMMIT` issued
 * as separate calls form one transaction. The owner must `close()` it.
 */
export class SyncPgClient {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private closed = false;

  /** `url`: a PostgreSQL connection string. Connects lazily (the first query reports a failure). */
  constructor(url: string, options: { applicationName?: string; timeoutMs?: number } = {}) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.timeoutMs = options.timeoutMs ?? 10 * 60_000;
    const pgPath = createRequire(import.meta.url).resolve('pg');
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { pgPath, url, port: port2, flag: this.flag.buffer, name: options.applicationName ?? 'pixsearch' },
      transferList: [port2],
    });
    this.worker.unref();
    this.port.unref();
  }

  private readonly timeoutMs: number;

  /** Runs one statement and returns its rows. Throws {@link PgQueryError}. */
  query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): SyncResult<R> {
    if (this.closed) throw new PgQueryError('the PostgreSQL client is closed', undefined);
    return this.call({ sql, params }) as SyncResult<R>;
  }

  private call(req: unknown): unknown {
    Atomics.store(this.flag, 0, 0);
    this.port.postMessage(req);
    if (Atomics.wait(this.flag, 0, 0, this.timeoutMs) === 'timed-out') {
      throw new PgQueryError(`no answer from PostgreSQL within ${this.timeoutMs / 1000} s`, undefined);
    }
    const msg = receiveMessageOnPort(this.port)?.message as { ok?: true; rows?: unknown[]; rowCount?: number; error?: { message: string; code?: string } } | undefined;
    if (!msg) throw new PgQueryError('the PostgreSQL worker thread answered nothing', undefined);
    if (msg.error) throw new PgQueryError(msg.error.message, msg.error.code);
    return { rows: msg.rows ?? [], rowCount: msg.rowCount ?? 0 };
  }

  /** Closes the connection and ends the worker thread. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.call({ close: true });
    } catch {
      // The worker is ended below either way.
    }
    void this.worker.terminate();
  }
}
