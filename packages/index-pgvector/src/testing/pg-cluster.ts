import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A throwaway PostgreSQL server: one temporary cluster, one database, listening on 127.0.0.1. */
export interface PgCluster {
  /** Connection URL of its `postgres` database (user `postgres`, trust authentication, no password). */
  readonly url: string;
  readonly port: number;
  /** Stops the server (`pg_ctl stop -m immediate`) and deletes the cluster. Idempotent. */
  stop(): Promise<void>;
}

/** The bin directory of the newest PostgreSQL installed the Debian way (`/usr/lib/postgresql/N/bin`), or of `PG_BIN`. */
export function findPgBin(): string | undefined {
  const env = process.env.PG_BIN;
  if (env && existsSync(path.join(env, 'initdb'))) return env;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(path.join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : path.join(base, versions[0], 'bin');
}

/** A port the OS reports free on 127.0.0.1 (listen on 0, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts a throwaway PostgreSQL cluster: `initdb` into a temporary directory, `pg_ctl start` on a
 * free port of 127.0.0.1 (no Unix socket outside the cluster directory), fsync off. `initdb`
 * refuses to run as root, so as root the cluster belongs to the `postgres` system user (created
 * by Debian's postgresql package) and the tools run through `runuser`. The caller must `stop()` it.
 *
 * Throws with an install hint when no PostgreSQL server binaries are found.
 */
export async function startPgCluster(options: { settings?: Record<string, string | number> } = {}): Promise<PgCluster> {
  const bin = findPgBin();
  if (!bin) {
    throw new Error('PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin and $PG_BIN): run `bash scripts/setup.sh --test` or `apt-get install postgresql-15`');
  }
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(path.join(tmpdir(), 'pixsearch-pg-'));
  const data = path.join(dir, 'data');
  let owner: { uid: number; gid: number } | undefined;
  if (asRoot) {
    const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (id.status !== 0) throw new Error('running as root needs the `postgres` system user to own the test cluster (installed with Debian’s postgresql package)');
    owner = { uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) };
    chownSync(dir, owner.uid, owner.gid);
    chmodSync(dir, 0o700);
  }
  const tool = (name: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', path.join(bin, name), ...args], { cwd: dir }) : run(path.join(bin, name), args, { cwd: dir });
  const port = await freePort();
  const settings: Record<string, string | number> = {
    listen_addresses: '127.0.0.1',
    port,
    unix_socket_directories: dir,
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: 100,
    shared_buffers: '32MB',
    ...options.settings,
  };
  let started = false;
  const stop = async (): Promise<void> => {
    if (started) {
      started = false;
      await tool('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await tool('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    const opts = Object.entries(settings)
      .map(([k, v]) => `-c ${k}=${String(v)}`)
      .join(' ');
    await tool('pg_ctl', ['-D', data, '-l', path.join(dir, 'server.log'), '-o', opts, '-w', '-t', '60', 'start']);
    started = true;
  } catch (err) {
    await stop();
    throw new Error(`could not start a throwaway PostgreSQL cluster: ${(err as Error).message}`, { cause: err });
  }
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, port, stop };
}
