// The data directory's discovery file: how `pixsearch index/search/similar` find the `serve`
// that owns the library (its address and a per-run secret), and how they tell a live server
// from a file left behind by a crash.
// Only node:fs (sync, loaded with Node itself), node:http and node:path: a CLI that talks to a
// server loads this module on every run, so it avoids node:fs/promises and node:crypto (~15-30 ms).
import { lstatSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';

/** File name of the discovery file inside the data directory (mode 0600). */
export const DISCOVERY_FILE = 'server.json';

/** What the discovery file holds. */
export interface DiscoveryInfo {
  /** Process id of the server. */
  pid: number;
  /** Base URL to reach it from this machine (a loopback address when it listens on all interfaces). */
  url: string;
  /** Per-run secret: send it as `X-Pixsearch-Secret`. */
  secret: string;
  /** Absolute data directory the server owns. */
  dataDir: string;
  startedAt: string;
}

/**
 * Writes the discovery file atomically (temporary file + rename), readable by this user only.
 * `remove()` deletes it unless another server has replaced it since. Call it when the server stops.
 */
export async function publishServer(dataDir: string, info: Omit<DiscoveryInfo, 'pid' | 'startedAt' | 'dataDir'>): Promise<{ file: string; remove(): Promise<void> }> {
  const file = path.join(dataDir, DISCOVERY_FILE);
  const full: DiscoveryInfo = { pid: process.pid, url: info.url, secret: info.secret, dataDir: path.resolve(dataDir), startedAt: new Date().toISOString() };
  const tmp = `${file}.${process.pid}.tmp`;
  // A few hundred bytes, written once per server start: synchronous writes are fine here.
  writeFileSync(tmp, JSON.stringify(full, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, file);
  return {
    file,
    remove: async () => {
      const now = readInfo(file);
      if (now?.secret === info.secret) rmSync(file, { force: true });
    },
  };
}

function readInfo(file: string): DiscoveryInfo | undefined {
  try {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<DiscoveryInfo>;
    if (typeof raw.pid !== 'number' || typeof raw.url !== 'string' || typeof raw.secret !== 'string' || typeof raw.dataDir !== 'string') return undefined;
    return raw as DiscoveryInfo;
  } catch {
    return undefined;
  }
}

/** Header that carries the owner secret (every `/api/local/*` request; it also stands in for a bearer token). */
export const OWNER_SECRET_HEADER = 'x-pixsearch-secret';

/** A local route's answer: the HTTP status and the parsed JSON body (null when it was not JSON). */
export interface LocalResponse {
  status: number;
  body: unknown;
}

/**
 * One request to the server of `info`, with its secret, and the JSON answer. Plain `node:http`
 * on a connection of its own that closes with the answer, not `fetch`: a short-lived CLI waits
 * for nothing afterwards (fetch's kept-alive socket held the process 100–200 ms before it could
 * exit) and does not load undici (~35 ms of CPU). Rejects on a network error or after `timeoutMs`.
 */
export function localRequest(
  info: Pick<DiscoveryInfo, 'url' | 'secret'>,
  method: 'GET' | 'POST',
  route: string,
  body?: unknown,
  timeoutMs?: number,
): Promise<LocalResponse> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(route, info.url),
      {
        method,
        agent: false,
        headers: {
          [OWNER_SECRET_HEADER]: info.secret,
          accept: 'application/json',
          ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
        ...(timeoutMs !== undefined ? { timeout: timeoutMs } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          let parsed: unknown = null;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            parsed = null;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${info.url} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** What a live server answers on `/api/local/hello` (the fields a client uses). */
export interface ServerHello {
  pid: number;
  dataDir: string;
  /** The engine's `k` default and maximum. */
  limits?: { defaultK: number; maxK: number };
}

/** Why a discovery file was not used (for `--verbose` output). */
export type DiscoveryMiss = 'none' | 'unreadable' | 'not-private' | 'dead-process' | 'no-answer';

/** True when process `pid` exists (and is ours to signal). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: a process of another user holds that pid now; ESRCH: none does.
    void err;
    return false;
  }
}

/**
 * The live server that owns `dataDir`, or why there is none. A file counts only when it is a
 * regular file owned by this user and private to them (mode 0600), its process runs, and the
 * server answers `/api/local/hello` with the secret, for the same data directory within
 * `timeoutMs`. A file left by a crash (dead pid, or a reused pid that does not answer) is ignored.
 */
export async function findServer(dataDir: string, timeoutMs = 1500): Promise<{ info: DiscoveryInfo; hello: ServerHello } | { miss: DiscoveryMiss }> {
  const file = path.join(dataDir, DISCOVERY_FILE);
  let st;
  try {
    st = lstatSync(file);
  } catch {
    return { miss: 'none' };
  }
  if (!st.isFile()) return { miss: 'unreadable' };
  if ((typeof process.getuid === 'function' && st.uid !== process.getuid()) || (st.mode & 0o077) !== 0) return { miss: 'not-private' };
  const info = readInfo(file);
  if (!info) return { miss: 'unreadable' };
  if (!alive(info.pid)) return { miss: 'dead-process' };
  try {
    const res = await localRequest(info, 'GET', '/api/local/hello', undefined, timeoutMs);
    if (res.status !== 200 || typeof res.body !== 'object' || res.body === null) return { miss: 'no-answer' };
    const hello = res.body as Partial<ServerHello>;
    if (hello.pid !== info.pid || real(hello.dataDir ?? '') !== real(dataDir)) return { miss: 'no-answer' };
    return { info, hello: hello as ServerHello };
  } catch {
    return { miss: 'no-answer' };
  }
}

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}
