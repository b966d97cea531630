// `pixsearch serve` owns the library from the moment it opens it: while its startup sync runs,
// `search` is answered by it and `index` follows that sync and queues its own after it (it used
// to fail with "data directory … is in use"); in the moment between locking the library and
// listening, `index` waits for the server. serve is held at those points by a test preload
// (fixtures/hold-first-call.mjs) and released with a signal: no timing, no race.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testImageNames, writeTestImages } from '@pixsearch/core/testing';
import { collect, runCli, spawnCli, waitForStderr } from './helpers.js';

let tmp: string;
let model: string;
let lib: string;
let dataDir: string;
let env: Record<string, string>;
let serve: ChildProcess | undefined;

const px = (args: string[]) => runCli(args, { env });

interface DoneEvent {
  syncId: number;
  trigger: string;
  added: number;
  unchanged: number;
}

/** `done` events of the server's sync stream, in order, from the moment it is opened. */
async function doneEvents(url: string) {
  const ctl = new AbortController();
  const res = await fetch(`${url}/api/sync/events`, { signal: ctl.signal });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  const blocks: string[] = [];
  const nextBlock = async (): Promise<string> => {
    for (;;) {
      if (blocks.length > 0) return blocks.shift()!;
      const r = await reader.read();
      if (r.done) throw new Error('event stream ended');
      buf += r.value;
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        blocks.push(buf.slice(0, i));
        buf = buf.slice(i + 2);
      }
    }
  };
  // The `state` event comes first: from then on nothing is missed.
  while (!/^event: state$/m.test(await nextBlock()));
  return {
    async next(): Promise<DoneEvent> {
      for (;;) {
        const block = await nextBlock();
        if (/^event: done$/m.test(block)) return JSON.parse(/^data: (.*)$/m.exec(block)![1]!) as DoneEvent;
      }
    },
    close: () => ctl.abort(),
  };
}

/** Resolves once the child has printed one whole JSON document on stdout (`serve --json` does when it listens for Ctrl-C). */
function stdoutJson(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer | string) => {
      buf += d.toString();
      try {
        JSON.parse(buf);
        resolve();
      } catch {
        // not complete yet
      }
    });
  });
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'pixsearch-startup-'));
  model = join(tmp, 'model');
  lib = join(tmp, 'library');
  dataDir = join(tmp, 'data');
  env = { HOME: join(tmp, 'home'), XDG_DATA_HOME: join(tmp, 'xdg'), PIXSEARCH_CACHE: join(tmp, 'cache'), PIXSEARCH_DATA_DIR: dataDir };
  mkdirSync(env.HOME!, { recursive: true });
  await writeTestImages(lib, testImageNames(3), { width: 96, height: 96 });
  const gen = await runCli(['model', 'generate', '--preset', 'tiny', '--out', model, '--json'], { env });
  expect(gen.code, gen.stderr).toBe(0);
  const first = await px(['index', lib, '--model', model, '--json']);
  expect(first.code, first.stderr).toBe(0);
  // Two images arrive while no server runs: the startup sync has them to catch up.
  await writeTestImages(join(lib, 'while-down'), testImageNames(2, 'down'), { width: 64, height: 64, seedBase: 100 });
}, 120_000);

afterAll(() => {
  serve?.kill('SIGKILL');
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('serve during its startup sync', () => {
  it('answers search, and index follows the startup sync then runs its own instead of failing', async () => {
    serve = spawnCli(['serve', '--port', '0', '--json', '--no-watch'], { env, holdFirst: 'sync' });
    const served = collect(serve, 120_000);
    const printedJson = stdoutJson(serve);
    await waitForStderr(serve, /\[test\] first sync held/);

    // The server already listens and has published its discovery file.
    const info = JSON.parse(readFileSync(join(dataDir, 'server.json'), 'utf8')) as { pid: number; url: string };
    expect(info.pid).toBe(serve.pid);
    const events = await doneEvents(info.url);
    try {
      // search: answered warm by the server, from the library as it was (3 images).
      const found = await px(['search', 'a photo', '--json', '-k', '10', '--threshold=-1', '--verbose']);
      expect(found.code, found.stderr).toBe(0);
      expect(found.stderr).toContain(`using the server running at ${info.url}`);
      expect((JSON.parse(found.stdout) as { results: unknown[] }).results).toHaveLength(3);

      // index: told that the startup sync runs, it waits for it (held), then its own sync runs.
      const index = spawnCli(['index', '--json'], { env });
      const indexed = collect(index, 120_000);
      await waitForStderr(index, /waiting for the server's startup sync to finish/);
      serve.kill('SIGUSR2');

      const r = await indexed;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toContain('in use');
      const out = JSON.parse(r.stdout) as { indexed: number; server: string; added: number; unchanged: number; aborted: boolean };
      expect(out).toMatchObject({ indexed: 5, server: info.url, aborted: false, added: 0, unchanged: 5 });

      // The server ran the startup sync (which found the 2 new images), then the CLI's.
      const startup = await events.next();
      expect(startup).toMatchObject({ trigger: 'startup', added: 2 });
      const cli = await events.next();
      expect(cli).toMatchObject({ trigger: 'cli', added: 0, unchanged: 5 });
      expect(cli.syncId).toBe(startup.syncId + 1);
    } finally {
      events.close();
    }

    // serve reports its startup sync as before (once it listens for Ctrl-C), then serves until Ctrl-C.
    await printedJson;
    serve.kill('SIGINT');
    const s = await served;
    serve = undefined;
    expect(s.code, s.stderr).toBe(0);
    const printed = JSON.parse(s.stdout) as { indexed: number; sync: { added: number } };
    expect(printed.sync.added).toBe(2);
    expect(printed.indexed).toBe(5);
  });

  it('index while serve has locked the library but does not listen yet waits for its server, then syncs through it', async () => {
    serve = spawnCli(['serve', '--port', '0', '--json', '--no-watch'], { env, holdFirst: 'stats' });
    const served = collect(serve, 120_000);
    const printedJson = stdoutJson(serve);
    await waitForStderr(serve, /\[test\] first stats held/);

    const index = spawnCli(['index', '--json', '--verbose'], { env });
    const indexed = collect(index, 120_000);
    // The library is locked and no server is published yet: index waits for one instead of failing.
    await waitForStderr(index, /is locked by pid \d+: waiting up to 10 s for a starting pixsearch serve/);
    serve.kill('SIGUSR2');

    const r = await indexed;
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(readFileSync(join(dataDir, 'server.json'), 'utf8')) as { pid: number; url: string };
    expect(info.pid).toBe(serve.pid);
    expect(r.stderr).toContain(`using the server running at ${info.url}`);
    expect(JSON.parse(r.stdout)).toMatchObject({ indexed: 5, server: info.url, aborted: false });

    await printedJson;
    serve.kill('SIGINT');
    const s = await served;
    serve = undefined;
    expect(s.code, s.stderr).toBe(0);
  });

  it('Ctrl-C during the startup sync stops it, keeps what it committed, exits 130 and removes the discovery file', async () => {
    await writeTestImages(join(lib, 'later'), testImageNames(2, 'later'), { width: 72, height: 72, seedBase: 200 });
    serve = spawnCli(['serve', '--port', '0', '--json', '--no-watch'], { env, holdFirst: 'sync' });
    const served = collect(serve, 120_000);
    await waitForStderr(serve, /\[test\] first sync held/);
    serve.kill('SIGINT');
    await waitForStderr(serve, /Ctrl-C: stopping indexing after the current batch/);
    serve.kill('SIGUSR2');
    const s = await served;
    serve = undefined;
    expect(s.code, s.stderr).toBe(130);
    expect(JSON.parse(s.stdout)).toMatchObject({ sync: { aborted: true } });
    expect(() => readFileSync(join(dataDir, 'server.json'))).toThrow();
    // The next run finishes the job.
    const again = await px(['index', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ indexed: 7, aborted: false });
  });
});
