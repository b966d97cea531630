// `pixsearch index --watch --json`: a stream of events on stdout, one compact JSON object per
// line (NDJSON). Real CLI process, real watcher, real files; every wait is for a printed line.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testImageNames, writeTestImages } from '@pixsearch/core/testing';
import { collect, runCli, spawnCli } from './helpers.js';

let tmp: string;
let model: string;
let lib: string;
let env: Record<string, string>;
let child: ChildProcess | undefined;

/** Every line the child writes to stdout, in order; `next()` resolves with the next one (parsed). */
function stdoutLines(c: ChildProcess) {
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  let buf = '';
  c.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      waiting.shift()?.(line);
    }
  });
  let read = 0;
  return {
    lines,
    /** The next line not read yet, parsed as JSON. */
    async next(): Promise<Record<string, unknown>> {
      const line = read < lines.length ? lines[read]! : await new Promise<string>((resolve) => waiting.push(resolve));
      read++;
      return JSON.parse(line) as Record<string, unknown>;
    },
    /** Bytes after the last newline (a line not finished yet). */
    rest: () => buf,
  };
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'pixsearch-watch-'));
  model = join(tmp, 'model');
  lib = join(tmp, 'library');
  env = { HOME: join(tmp, 'home'), XDG_DATA_HOME: join(tmp, 'xdg'), PIXSEARCH_CACHE: join(tmp, 'cache'), PIXSEARCH_DATA_DIR: join(tmp, 'data') };
  mkdirSync(env.HOME!, { recursive: true });
  await writeTestImages(lib, testImageNames(4), { width: 96, height: 96 });
  const gen = await runCli(['model', 'generate', '--preset', 'tiny', '--out', model, '--json'], { env });
  expect(gen.code, gen.stderr).toBe(0);
}, 120_000);

afterAll(() => {
  child?.kill('SIGKILL');
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('index --watch --json', () => {
  it('prints NDJSON: the first sync, then "watching", then one line per sync the watcher runs', async () => {
    child = spawnCli(['index', lib, '--watch', '--json', '--model', model], { env });
    const done = collect(child, 120_000);
    const out = stdoutLines(child);

    const first = await out.next();
    expect(first).toMatchObject({ event: 'sync', added: 4, indexed: 4, aborted: false, roots: [lib] });
    const watching = await out.next();
    expect(watching).toMatchObject({ event: 'watching', roots: [lib] });
    expect(['events', 'poll']).toContain(watching.mode);

    // A new image lands in one step (written aside, then renamed in): the watcher syncs it.
    await writeTestImages(join(tmp, 'staging'), ['new.jpg'], { width: 80, height: 80, seedBase: 100 });
    renameSync(join(tmp, 'staging', 'new.jpg'), join(lib, 'new.jpg'));
    let added = 0;
    let last: Record<string, unknown>;
    do {
      last = await out.next();
      expect(last.event).toBe('sync');
      added += last.added as number;
    } while (last.indexed !== 5);
    expect(added).toBe(1);

    child.kill('SIGINT');
    const r = await done;
    child = undefined;
    expect(r.code, r.stderr).toBe(0);
    // Every line is one compact JSON object; nothing else on stdout.
    expect(out.rest()).toBe('');
    expect(out.lines.length).toBeGreaterThanOrEqual(3);
    for (const line of out.lines) expect(JSON.stringify(JSON.parse(line))).toBe(line);
    expect(r.stderr).toMatch(/Watching .* for changes/);
  });
});
