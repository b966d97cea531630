// One process owns the library: while `pixsearch serve` runs, `index` asks it to sync (and shows
// that sync's progress), `search`/`similar` are answered by it, and the server follows the folders
// (burst, moves, deletions, restart with changes made while down). Real CLI processes, real
// server, real files; every wait is for an event (SSE, a printed line, a process exit), never a sleep.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testImageNames, writeTestImages } from '@pixsearch/core/testing';
import { collect, runCli, spawnCli } from './helpers.js';

let tmp: string;
let model: string;
let lib: string;
let dataDir: string;
let env: Record<string, string>;
let serve: { child: ChildProcess; url: string; printed: { url: string; watching: string | false; indexed: number }; done: ReturnType<typeof collect> } | undefined;

const px = (args: string[], extra: Record<string, string> = {}) => runCli(args, { env: { ...env, ...extra } });
const json = <T>(s: string): T => JSON.parse(s) as T;

interface SyncDone {
  syncId: number;
  trigger: string;
  added: number;
  updated: number;
  moved: number;
  removed: number;
  skipped: number;
}

/** Starts `pixsearch serve --json` and resolves with its URL once it listens. */
async function startServe(args: string[] = []): Promise<NonNullable<typeof serve>> {
  const child = spawnCli(['serve', lib, '--port', '0', '--json', '--model', model, ...args], { env });
  const done = collect(child, 300_000);
  const printed = await new Promise<NonNullable<typeof serve>['printed']>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      try {
        resolve(JSON.parse(buf) as NonNullable<typeof serve>['printed']);
      } catch {
        // not complete yet
      }
    });
    child.on('close', () => reject(new Error(`serve exited early: ${buf}`)));
  });
  serve = { child, url: printed.url, printed, done };
  return serve;
}

async function stopServe(): Promise<void> {
  if (!serve) return;
  serve.child.kill('SIGINT');
  const r = await serve.done;
  serve = undefined;
  expect(r.code, r.stderr).toBe(0);
}

/** An open `/api/sync/events` stream of the running server: `next(pred)` resolves with the first matching event from now on. */
async function syncEvents(url: string) {
  const ctl = new AbortController();
  const res = await fetch(`${url}/api/sync/events`, { signal: ctl.signal });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  const queue: { event: string; data: unknown }[] = [];
  const read = async (): Promise<{ event: string; data: unknown }> => {
    for (;;) {
      if (queue.length > 0) return queue.shift()!;
      const i = buf.indexOf('\n\n');
      if (i >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data !== undefined) queue.push({ event, data: JSON.parse(data) });
        continue;
      }
      const r = await reader.read();
      if (r.done) throw new Error('event stream ended');
      buf += r.value;
    }
  };
  await read(); // the state event: the stream is live
  return {
    async next<T>(pred: (e: { event: string; data: T }) => boolean): Promise<T> {
      for (;;) {
        const e = (await read()) as { event: string; data: T };
        if (pred(e)) return e.data;
      }
    },
    close: () => ctl.abort(),
  };
}

interface Status {
  images: { indexed: number; skipped: number; failed: number };
}

/** Waits for watcher syncs until `check(status)` holds (each wait is for a `done` event; the stream was opened before the change). */
async function until(url: string, events: Awaited<ReturnType<typeof syncEvents>>, check: (s: Status) => boolean): Promise<void> {
  for (;;) {
    const st = (await (await fetch(`${url}/api/status`)).json()) as Status;
    if (check(st)) return;
    await events.next<SyncDone>((e) => e.event === 'done' || e.event === 'error');
  }
}

const untilIndexed = (url: string, events: Awaited<ReturnType<typeof syncEvents>>, n: number) => until(url, events, (s) => s.images.indexed === n);

async function ids(url: string): Promise<Map<string, number>> {
  const r = (await (await fetch(`${url}/api/search?q=photo&k=200&threshold=-1`)).json()) as { results: { id: number; path: string }[] };
  return new Map(r.results.map((x) => [x.path, x.id]));
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'pixsearch-owner-'));
  model = join(tmp, 'model');
  lib = join(tmp, 'library');
  dataDir = join(tmp, 'data');
  env = { HOME: join(tmp, 'home'), XDG_DATA_HOME: join(tmp, 'xdg'), PIXSEARCH_CACHE: join(tmp, 'cache'), PIXSEARCH_DATA_DIR: dataDir };
  mkdirSync(env.HOME!, { recursive: true });
  await writeTestImages(lib, testImageNames(10), { width: 96, height: 96 });
  const gen = await runCli(['model', 'generate', '--preset', 'tiny', '--out', model, '--json'], { env });
  expect(gen.code, gen.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  if (serve) {
    serve.child.kill('SIGKILL');
    await serve.done.catch(() => undefined);
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('while serve runs', () => {
  it('publishes a private discovery file; search and similar are answered by the server', async () => {
    const { url, printed } = await startServe();
    expect(printed.watching).toBe('events');
    const file = join(dataDir, 'server.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const info = json<{ pid: number; url: string; secret: string }>(readFileSync(file, 'utf8'));
    expect(info.pid).toBe(serve!.child.pid);
    expect(info.url).toBe(url);
    expect(info.secret.length).toBeGreaterThanOrEqual(32);
    // Without the secret the owner's routes are closed.
    expect((await fetch(`${url}/api/local/hello`)).status).toBe(403);
    expect((await fetch(`${url}/api/local/hello`, { headers: { 'x-pixsearch-secret': 'x'.repeat(43) } })).status).toBe(403);

    const loaded = join(tmp, 'search-modules.json');
    const r = await runCli(['search', 'a photo', '--json', '-k', '3', '--threshold=-1', '--verbose'], { env, recordModulesTo: loaded });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`using the server running at ${url}`);
    // The warm path loads only what talking to the server needs: no engine, model, image decoder,
    // HTTP server, zod or progress bars, and plain node:http rather than fetch (undici).
    const modules = json<{ urls: string[]; builtins: string[] }>(readFileSync(loaded, 'utf8'));
    expect(modules.urls.some((u) => u.includes('/packages/cli/src/commands/search.ts'))).toBe(true);
    const heavy = modules.urls.filter((u) => /\/packages\/core\/src\/(engine|clip)\/|\/node_modules\/(\.pnpm\/)?(zod|hono|sharp|onnxruntime|better-sqlite3|cli-progress|supports-hyperlinks)[@/]/.test(u));
    expect(heavy).toEqual([]);
    expect(modules.builtins.filter((b) => /undici/.test(b))).toEqual([]);
    const res = json<{ results: { id: number; absPath: string }[] }>(r.stdout);
    expect(res.results).toHaveLength(3);
    // The same answer as the engine opened in-process.
    const local = await px(['search', 'a photo', '--json', '-k', '3', '--threshold=-1'], { PIXSEARCH_NO_SERVER: '1' });
    expect(json<{ results: { id: number }[] }>(local.stdout).results.map((x) => x.id)).toEqual(res.results.map((x) => x.id));

    const sim = await px(['similar', String(res.results[0]!.id), '--json', '-k', '2', '--threshold=-1', '--verbose']);
    expect(sim.code, sim.stderr).toBe(0);
    expect(sim.stderr).toContain('using the server');
    expect(json<{ results: { id: number }[] }>(sim.stdout).results.map((x) => x.id)).not.toContain(res.results[0]!.id);
    const byFileModules = join(tmp, 'similar-modules.json');
    const byFile = await runCli(['similar', res.results[0]!.absPath, '--json', '-k', '2', '--threshold=-1'], { env, recordModulesTo: byFileModules });
    expect(byFile.code, byFile.stderr).toBe(0);
    expect(json<{ results: { absPath: string }[] }>(byFile.stdout).results.map((x) => x.absPath)).not.toContain(res.results[0]!.absPath);
    expect(json<{ results: unknown[] }>(byFile.stdout).results).toHaveLength(2);
    // The file itself is left out with the server's k limits: the engine is not loaded here either.
    expect(json<{ urls: string[] }>(readFileSync(byFileModules, 'utf8')).urls.filter((u) => /\/packages\/core\/src\/(engine|clip)\//.test(u))).toEqual([]);
  });

  it('index asks the server to sync and shows that sync instead of failing', async () => {
    const { url } = serve!;
    const events = await syncEvents(url);
    try {
      // --no-watch is not set: the watcher may sync these itself; index then runs one more sync after it.
      await writeTestImages(join(lib, 'new'), testImageNames(3, 'fresh'), { width: 80, height: 80 });
      const r = await px(['index', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/pixsearch serve \(pid \d+, http:\/\/127\.0\.0\.1:\d+\) owns/);
      const out = json<{ indexed: number; server: string; aborted: boolean }>(r.stdout);
      expect(out.server).toBe(url);
      expect(out.aborted).toBe(false);
      expect(out.indexed).toBe(13);
      // The page saw it too: a `done` event of a sync started by the CLI.
      await events.next<SyncDone>((e) => e.event === 'done' && (e.data as SyncDone).trigger === 'cli');
    } finally {
      events.close();
    }
  });

  it('index with a new folder adds it through the server, which then follows it too', async () => {
    const { url } = serve!;
    const extra = join(tmp, 'extra');
    await writeTestImages(extra, ['e-1.jpg', 'e-2.png'], { width: 88, height: 88 });
    const r = await px(['index', extra, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(json<{ indexed: number; added: number }>(r.stdout)).toMatchObject({ indexed: 15, added: 2 });
    const events = await syncEvents(url);
    try {
      await writeTestImages(extra, ['e-3.webp'], { width: 88, height: 88 });
      await untilIndexed(url, events, 16);
      for (const f of ['e-1.jpg', 'e-2.png', 'e-3.webp']) rmSync(join(extra, f));
      await untilIndexed(url, events, 13);
    } finally {
      events.close();
    }
  });

  it('follows the folders: a burst, a move, a rename and deletions; ids survive moves', async () => {
    const { url } = serve!;
    const events = await syncEvents(url);
    try {
      // One new file: time from landing to searchable (the sync that added it is done). Reported, not asserted.
      const landed = performance.now();
      await writeTestImages(lib, ['single/landed.jpg'], { width: 72, height: 72 });
      await until(url, events, (st) => st.images.indexed === 14);
      const searchableMs = performance.now() - landed;
      const hit = json<{ results: { path: string }[] }>(JSON.stringify(await (await fetch(`${url}/api/search?q=photo&k=200&threshold=-1`)).json()));
      expect(hit.results.map((r) => r.path)).toContain('single/landed.jpg');
      console.log(`[watch latency] ${JSON.stringify({ metric: 'new file → searchable (tiny model, serve watching)', ms: Math.round(searchableMs) })}`);
      rmSync(join(lib, 'single'), { recursive: true });
      await untilIndexed(url, events, 13);

      const before = await ids(url);
      // A burst of 40 files copied in.
      await writeTestImages(join(lib, 'burst'), testImageNames(40, 'burst'), { width: 48, height: 48 });
      await untilIndexed(url, events, 53);
      // A folder moved, a file renamed: same ids.
      const moved = before.get('new/album-0/fresh-0000.jpg')!;
      const first = before.get('album-0/img-0000.jpg')!;
      expect(moved).toBeGreaterThan(0);
      expect(first).toBeGreaterThan(0);
      renameSync(join(lib, 'new'), join(lib, 'moved-here'));
      renameSync(join(lib, 'album-0/img-0000.jpg'), join(lib, 'renamed.jpg'));
      // Waits for a sync that saw both (moved counts add up across the watcher's syncs).
      let movedCount = 0;
      while (movedCount < 4) movedCount += (await events.next<SyncDone>((e) => e.event === 'done')).moved;
      const after = await ids(url);
      expect(after.get('moved-here/album-0/fresh-0000.jpg')).toBe(moved);
      expect(after.get('renamed.jpg')).toBe(first);
      expect(after.has('album-0/img-0000.jpg')).toBe(false);
      // Deletions leave the library.
      rmSync(join(lib, 'burst'), { recursive: true });
      await untilIndexed(url, events, 13);
      expect([...(await ids(url)).keys()].some((p) => p.startsWith('burst/'))).toBe(false);
    } finally {
      events.close();
    }
  });

  it('skips an unreadable burst with reasons, and keeps serving', async () => {
    const { url } = serve!;
    const events = await syncEvents(url);
    try {
      mkdirSync(join(lib, 'locked'));
      for (let i = 0; i < 5; i++) {
        const f = join(lib, 'locked', `bad-${i}.jpg`);
        writeFileSync(f, 'not a jpeg at all');
      }
      writeFileSync(join(lib, 'locked', 'empty.png'), '');
      await until(url, events, (s) => s.images.skipped + s.images.failed >= 6);
      const st = (await (await fetch(`${url}/api/status`)).json()) as Status;
      expect(st.images.indexed).toBe(13);
    } finally {
      events.close();
    }
  });

  it('a restart catches what happened while down; a stale discovery file is ignored', async () => {
    await stopServe();
    expect(() => statSync(join(dataDir, 'server.json'))).toThrow();
    // Changes while down.
    rmSync(join(lib, 'renamed.jpg'));
    await writeTestImages(join(lib, 'while-down'), testImageNames(2, 'down'), { width: 64, height: 64 });
    // A file left by a crash: a dead pid.
    writeFileSync(join(dataDir, 'server.json'), JSON.stringify({ pid: 999_999, url: 'http://127.0.0.1:9', secret: 's'.repeat(43), dataDir, startedAt: '' }), { mode: 0o600 });
    const local = await px(['search', 'a photo', '--json', '--verbose']);
    expect(local.code, local.stderr).toBe(0);
    expect(local.stderr).toContain('dead-process');
    const { url } = await startServe();
    const st = (await (await fetch(`${url}/api/status`)).json()) as { images: { indexed: number } };
    expect(st.images.indexed).toBe(14);
    const r = await px(['search', 'a photo', '--json', '--verbose']);
    expect(r.stderr).toContain('using the server');
    await stopServe();
  });

  it('--no-watch serves without following the folders', async () => {
    const { printed } = await startServe(['--no-watch']);
    expect(printed.watching).toBe(false);
    await stopServe();
  });
});
