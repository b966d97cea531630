// The data directory's discovery file: how `pixsearch index/search/similar` find the `serve`
// that owns the library (its address and a per-run secret), and how they tell a live server
// from a file left behind by a crash.
import { randomBytes } from 'node:crypto';
import { lstat, readFile, realpath, rename, rm, writeFile } from 'node:fs/promises';
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

/** A fresh per-run owner secret (32 random bytes, base64url). */
export function generateOwnerSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Writes the discovery file atomically (temporary file + rename), readable by this user only.
 * `remove()` deletes it unless another server has replaced it since. Call it when the server stops.
 */
export async function publishServer(dataDir: string, info: Omit<DiscoveryInfo, 'pid' | 'startedAt' | 'dataDir'>): Promise<{ file: string; remove(): Promise<void> }> {
  const file = path.join(dataDir, DISCOVERY_FILE);
  const full: DiscoveryInfo = { pid: process.pid, url: info.url, secret: info.secret, dataDir: path.resolve(dataDir), startedAt: new Date().toISOString() };
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(full, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, file);
  return {
    file,
    remove: async () => {
      const now = await readInfo(file);
      if (now?.secret === info.secret) await rm(file, { force: true });
    },
  };
}

async function readInfo(file: string): Promise<DiscoveryInfo | undefined> {
  try {
    const raw = JSON.parse(await readFile(file, 'utf8')) as Partial<DiscoveryInfo>;
    if (typeof raw.pid !== 'number' || typeof raw.url !== 'string' || typeof raw.secret !== 'string' || typeof raw.dataDir !== 'string') return undefined;
    return raw as DiscoveryInfo;
  } catch {
    return undefined;
  }
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
export async function findServer(dataDir: string, timeoutMs = 1500): Promise<{ info: DiscoveryInfo } | { miss: DiscoveryMiss }> {
  const file = path.join(dataDir, DISCOVERY_FILE);
  let st;
  try {
    st = await lstat(file);
  } catch {
    return { miss: 'none' };
  }
  if (!st.isFile()) return { miss: 'unreadable' };
  if ((typeof process.getuid === 'function' && st.uid !== process.getuid()) || (st.mode & 0o077) !== 0) return { miss: 'not-private' };
  const info = await readInfo(file);
  if (!info) return { miss: 'unreadable' };
  if (!alive(info.pid)) return { miss: 'dead-process' };
  try {
    const res = await fetch(new URL('/api/local/hello', info.url), {
      headers: { 'x-pixsearch-secret': info.secret },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) return { miss: 'no-answer' };
    const hello = (await res.json()) as { pid?: number; dataDir?: string };
    if (hello.pid !== info.pid || (await real(hello.dataDir ?? '')) !== (await real(dataDir))) return { miss: 'no-answer' };
  } catch {
    return { miss: 'no-answer' };
  }
  return { info };
}

async function real(p: string): Promise<string> {
  return realpath(p).catch(() => path.resolve(p));
}
