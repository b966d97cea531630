import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureTinyBundle } from '@pixsearch/core/testing';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../src/testing/index.js';
import { freshDatabase, plainServer } from './pg-env.js';

// The scale-out story as a user runs it, through the `pixsearch` command: a scanner
// (`index --db`), two `worker --db` processes and a `serve --db` front end started before any image
// is embedded; the front end's search API returns what the workers embedded, without a restart.
// PostgreSQL 15 (no pgvector here): the library uses a local backend, as docs/scale-out.md says.

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(here, '../../..');
const TSX = pathToFileURL(path.join(REPO, 'node_modules/tsx/dist/loader.mjs')).href;
const BIN = path.join(REPO, 'packages/cli/src/bin.ts');

let dir: string;
let model: string;
let server: { url: string; stop(): Promise<void> };
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'pixsearch-serve-db-'));
  [model, server] = await Promise.all([ensureTinyBundle(), plainServer()]);
}, 120_000);
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function pixsearch(args: string[]): ChildProcess {
  const child = spawn(process.execPath, ['--conditions=@pixsearch/source', '--import', TSX, BIN, ...args], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', XDG_DATA_HOME: path.join(dir, 'xdg'), PIXSEARCH_NO_SERVER: '1' },
  });
  children.push(child);
  return child;
}

const exited = (c: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve(c.exitCode) : c.once('exit', (code) => resolve(code))));

async function run(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const c = pixsearch(args);
  let out = '';
  let err = '';
  c.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  c.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  return { code: await exited(c), out, err };
}

describe('pixsearch index --db, worker --db ×2, serve --db', () => {
  it('the front end started before the workers serves what they embed', async () => {
    const url = await freshDatabase(server.url, 'servedb');
    const root = path.join(dir, 'photos');
    await mkdir(path.join(root, 'sub'), { recursive: true });
    for (let i = 0; i < 12; i++) {
      const px = Buffer.alloc(32 * 24 * 3);
      for (let j = 0; j < px.length; j++) px[j] = (i * 37 + j * (i + 3)) % 256;
      await sharp(px, { raw: { width: 32, height: 24, channels: 3 } }).jpeg().toFile(path.join(root, i % 2 ? 'sub' : '', `img-${i}.jpg`));
    }
    const scan = await run(['index', '--db', url, '--model', model, '--backend', 'faiss-flat', '--json', root]);
    expect(scan.code, scan.err).toBe(0);
    expect(JSON.parse(scan.out)).toMatchObject({ queued: 12 });

    const serve = pixsearch(['serve', '--db', url, '--port', '0', '--json']);
    let serveErr = '';
    serve.stderr!.setEncoding('utf8').on('data', (d: string) => (serveErr += d));
    // `--json` prints one (pretty-printed) object once it listens.
    const first = await new Promise<string>((resolve, reject) => {
      let text = '';
      createInterface({ input: serve.stdout! }).on('line', (line) => {
        text += `${line}\n`;
        if (line === '}') resolve(text);
      });
      serve.once('exit', (code) => reject(new Error(`serve exited ${code}: ${serveErr}`)));
    });
    const { url: base, indexed } = JSON.parse(first) as { url: string; indexed: number };
    expect(indexed).toBe(0);
    const search = async (): Promise<{ id: number; path: string }[]> => {
      const res = await fetch(`${base}/api/search?q=${encodeURIComponent('a photo')}&k=50&threshold=-1`);
      expect(res.status).toBe(200);
      return ((await res.json()) as { results: { id: number; path: string }[] }).results;
    };
    expect(await search()).toEqual([]);

    const workers = [pixsearch(['worker', '--db', url]), pixsearch(['worker', '--db', url])];
    await waitFor('the front end to serve every embedded image', async () => (await search()).length === 12, { everyMs: 200 });
    for (const w of workers) w.kill('SIGTERM');
    expect(await Promise.all(workers.map(exited))).toEqual([0, 0]);
    expect((await search()).map((r) => r.path).sort()).toEqual(
      Array.from({ length: 12 }, (_, i) => `${i % 2 ? 'sub/' : ''}img-${i}.jpg`).sort(),
    );
    serve.kill('SIGTERM');
    expect(await exited(serve)).toBe(0);
  }, 300_000);
});
