// End-to-end: the real `pixsearch` CLI in child processes, over real image files (sharp), a real
// data directory and the generated `tiny` model. Tests run in order and share the library.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { testImageNames, writeTestImages } from '@pixsearch/core/testing';
import { CLI_COMMAND, childEnv, collect, runCli, spawnCli, waitForStderr } from './helpers.js';

let tmp: string;
let model: string;
let lib: string;
let dataDir: string;
let env: Record<string, string>;
const LIB_NAMES = testImageNames(12);

/** Runs the CLI against the shared library and model. */
const px = (args: string[], extra: { env?: Record<string, string>; cwd?: string } = {}) =>
  runCli(args, { env: { ...env, ...extra.env }, ...(extra.cwd ? { cwd: extra.cwd } : {}) });

function json<T = Record<string, unknown>>(stdout: string): T {
  return JSON.parse(stdout) as T;
}

interface Hit {
  id: number;
  rank: number;
  path: string;
  absPath: string;
  score: number;
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'pixsearch-cli-'));
  model = join(tmp, 'model');
  lib = join(tmp, 'library');
  dataDir = join(tmp, 'data');
  env = {
    HOME: join(tmp, 'home'),
    XDG_DATA_HOME: join(tmp, 'xdg-data'),
    PIXSEARCH_CACHE: join(tmp, 'cache'),
    PIXSEARCH_DATA_DIR: dataDir,
  };
  mkdirSync(env.HOME!, { recursive: true });
  await writeTestImages(lib, LIB_NAMES, { width: 96, height: 96 });
  // The generator command is itself under test here.
  const gen = await runCli(['model', 'generate', '--preset', 'tiny', '--out', model, '--json'], { env });
  expect(gen.code, gen.stderr).toBe(0);
  expect(json(gen.stdout)).toMatchObject({ preset: 'tiny', folder: model });
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('help and usage errors', () => {
  it('prints help with the commands, and per-command help with examples', async () => {
    const top = await px(['--help']);
    expect(top.code).toBe(0);
    for (const cmd of ['index', 'search', 'similar', 'serve', 'status', 'model', 'bench']) expect(top.stdout).toContain(cmd);
    const search = await px(['search', '--help']);
    expect(search.code).toBe(0);
    expect(search.stdout).toContain('Examples:');
    expect(search.stdout).toContain('--threshold');
    const version = await px(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^pixsearch\/\d+\.\d+\.\d+/);
  });

  it('lists the registered backends in help and in `pixsearch backends`', async () => {
    const help = await px(['index', '--help']);
    expect(help.stdout).toMatch(/--backend <name>\s+Vector index: faiss-flat, faiss-ivf, hnswlib, usearch[,;]/);
    const list = await px(['backends', '--json']);
    expect(list.code).toBe(0);
    const backends = JSON.parse(list.stdout) as { name: string; persistence: string; searchParams: { name: string }[] }[];
    expect(backends.map((b) => b.name)).toEqual(expect.arrayContaining(['faiss-flat', 'faiss-ivf', 'hnswlib', 'usearch']));
    expect(backends.find((b) => b.name === 'hnswlib')!.searchParams.map((p) => p.name)).toEqual(['efSearch']);
    expect(backends.find((b) => b.name === 'usearch')!.persistence).toBe('files');
    const human = await px(['backends']);
    expect(human.stdout).toContain('nprobe (integer 1..');
  });

  it.each([
    [['frobnicate'], /unknown command "frobnicate"/],
    [['search', 'dog', '--bogus'], /unknown option --bogus for "search"/],
    [['--bogus'], /unknown option --bogus/],
    [['search'], /search: missing <query>/],
    [['similar'], /similar: missing <image>/],
    [['search', 'dog', '-k', 'many'], /-k: expected an integer from 1 to 1000, got "many"/],
    [['search', 'dog', '--threshold'], /option --threshold needs a value/],
    [['index', '--backend', 'annoy'], /unknown backend "annoy"; registered: faiss-flat, faiss-ivf, hnswlib, usearch\b/],
    [['index', '--backend', 'Not A Name'], /--backend: expected a backend name \(pixsearch backends lists them\)/],
    [['model', 'fetch'], /unknown model action "fetch"/],
    [['model', 'generate', '--preset', 'tiny'], /model generate needs --out <dir>/],
    [['search', '"unterminated'], /unterminated quote/],
  ])('exits 2 with one clear line and a hint: %j', async (args, message) => {
    const r = await px(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^error: /);
    expect(lines[0]).toMatch(message);
    expect(lines[1]).toMatch(/^hint: /);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack without --debug
  });

  it('reports a bad PIXSEARCH_* variable by name', async () => {
    const r = await px(['status'], { env: { PIXSEARCH_THREADS: 'lots' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: PIXSEARCH_THREADS: expected an integer/);
  });
});

describe('before anything is indexed', () => {
  it('status says nothing is indexed yet; search fails with exit 1 and the command to run', async () => {
    const st = await px(['status']);
    expect(st.code).toBe(0);
    expect(st.stdout).toContain('Nothing indexed yet');
    const stJson = await px(['status', '--json']);
    expect(json(stJson.stdout)).toEqual({ dataDir, exists: false });

    const s = await px(['search', 'a dog']);
    expect(s.code).toBe(1);
    expect(s.stderr).toMatch(/^error: nothing is indexed in .* yet\nhint: index a folder first: pixsearch index/);
  });

  it('shows the stack only with --debug', async () => {
    const r = await px(['search', 'a dog', '--debug']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  it('rejects a missing folder or a file with exit 2', async () => {
    const missing = await px(['index', join(tmp, 'nope'), '--model', model]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`error: folder not found: ${join(tmp, 'nope')}`);
    const file = await px(['index', join(lib, LIB_NAMES[0]!), '--model', model]);
    expect(file.code).toBe(2);
    expect(file.stderr).toContain('error: not a folder');
  });

  it('fails fast, before scanning, with the offline instructions when the default model cannot be downloaded', async () => {
    const r = await px(['index', lib, '--data-dir', join(tmp, 'data-offline')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: model "[^"]+" is not in the cache and cannot be downloaded/m);
    expect(r.stderr).toContain('Put these files into');
    // The download instructions are lines of their own (not one line with escaped newlines).
    expect(r.stderr).toMatch(/^ {2}https:\/\/huggingface\.co\/\S+\/resolve\/main\/config\.json$/m);
    expect(r.stderr).not.toContain('\\n');
    expect(r.stderr).toContain('pixsearch model generate --preset tiny --out ./models/tiny');
    expect(r.stderr).not.toContain('Scanning');
  });

  it('indexes an empty folder without error and says no images were found', async () => {
    const empty = join(tmp, 'empty');
    mkdirSync(empty);
    const r = await px(['index', empty, '--model', model, '--data-dir', join(tmp, 'data-empty')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`warning: no images found in ${empty}`);
    expect(r.stdout).toMatch(/0 images in the library/);
  });
});

describe('index → search → similar → status', () => {
  it('indexes the library, then re-syncs it with zero embeddings', async () => {
    const first = await px(['index', lib, '--model', model, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const s1 = json(first.stdout);
    expect(s1).toMatchObject({ added: LIB_NAMES.length, embedded: LIB_NAMES.length, indexed: LIB_NAMES.length, aborted: false, roots: [lib] });
    // Plain progress lines on stderr (not a TTY), never on stdout.
    expect(first.stderr).toMatch(/Embedding: \d+\/12/);

    const again = await px(['index', '--json']); // no folder: the library's own
    expect(again.code, again.stderr).toBe(0);
    expect(json(again.stdout)).toMatchObject({ added: 0, unchanged: LIB_NAMES.length, embedded: 0, indexed: LIB_NAMES.length });

    const human = await px(['index', lib]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/✓ 12 images in the library · 0 embedded/);
    expect(human.stdout).toMatch(/0 added · 0 updated · 0 moved · 0 removed · 12 unchanged · 0 skipped/);
  });

  it('prints ranked results, one per line (and says when --open finds no viewer)', async () => {
    const noBin = join(tmp, 'empty-bin');
    mkdirSync(noBin, { recursive: true });
    const r = await px(['search', 'a red square', '-k', '5', '--threshold=-1', '--open'], { env: { PATH: noBin } });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    // Rank, score, catalog id, absolute path, then the date (these files have no EXIF: their file date).
    const libRe = lib.replace(/[/.]/g, '\\$&');
    lines.forEach((line, i) => expect(line).toMatch(new RegExp(`^  ${i + 1}\\. -?\\d\\.\\d{4}  #\\d+ +${libRe}/album-\\d/img-\\d{4}\\.(jpg|png|webp)  \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d \\(file date\\)$`)));
    const scores = lines.map((l) => Number(l.trim().split(/\s+/)[1]));
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect(r.stderr).toMatch(/5 results/);
    expect(r.stderr).toMatch(/warning: cannot open .*album-\d\/img-\d{4}\.\w+: no system viewer found/);
  });

  it('pages with --offset and filters with --path, and --json is clean JSON', async () => {
    const all = await px(['search', 'a red square', '-k', '12', '--threshold=-1', '--json']);
    expect(all.code, all.stderr).toBe(0);
    const res = json<{ query: string; results: Hit[] }>(all.stdout);
    expect(res.query).toBe('a red square');
    expect(res.results).toHaveLength(12);
    expect(new Set(res.results.map((h) => h.path))).toEqual(new Set(LIB_NAMES));
    expect(res.results[0]!.absPath).toBe(join(lib, res.results[0]!.path));

    const page2 = json<{ results: Hit[] }>((await px(['search', 'a red square', '-k', '4', '--offset', '4', '--threshold=-1', '--json'])).stdout);
    expect(page2.results.map((h) => h.id)).toEqual(res.results.slice(4, 8).map((h) => h.id));
    expect(page2.results[0]!.rank).toBe(5);

    const filtered = json<{ results: Hit[] }>((await px(['search', 'a red square', '--path', 'album-1/', '--threshold=-1', '--json'])).stdout);
    expect(filtered.results.length).toBe(4);
    for (const h of filtered.results) expect(h.path.startsWith('album-1/')).toBe(true);
  });

  it('accepts combined queries with weights and negative terms', async () => {
    const r = await px(['search', '"red" + 2:"blue" - "green"', '-k', '3', '--threshold=-1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const res = json<{ query: string; results: Hit[] }>(r.stdout);
    expect(res.query).toBe('"red" + 2:"blue" - "green"');
    expect(res.results).toHaveLength(3);
    // Unquoted words with a standalone "-" reach the query intact (the option parser would eat "-").
    const plain = await px(['search', 'red', '-', 'blue', '-k', '1', '--threshold=-1', '--json']);
    expect(json<{ query: string }>(plain.stdout).query).toBe('red - blue');
  });

  it('finds similar images by catalog id and by file', async () => {
    const top = json<{ results: Hit[] }>((await px(['search', 'anything', '-k', '1', '--threshold=-1', '--json'])).stdout).results[0]!;
    const byId = await px(['similar', String(top.id), '-k', '3', '--threshold=-1', '--json']);
    expect(byId.code, byId.stderr).toBe(0);
    const idHits = json<{ results: Hit[] }>(byId.stdout).results;
    expect(idHits).toHaveLength(3);
    expect(idHits.map((h) => h.id)).not.toContain(top.id); // itself excluded

    // A library image given by path: its own entry is left out, as with an id.
    const byFile = await px(['similar', join(lib, LIB_NAMES[5]!), '-k', '2', '--threshold=-1', '--json']);
    expect(byFile.code, byFile.stderr).toBe(0);
    const fileHits = json<{ results: Hit[] }>(byFile.stdout).results;
    expect(fileHits).toHaveLength(2);
    expect(fileHits.map((h) => h.path)).not.toContain(LIB_NAMES[5]);
    // An image from outside the library (a copy of that one): its twin in the library comes first.
    const outside = join(tmp, `outside${extname(LIB_NAMES[5]!)}`);
    copyFileSync(join(lib, LIB_NAMES[5]!), outside);
    const twin = json<{ results: Hit[] }>((await px(['similar', outside, '-k', '1', '--threshold=-1', '--json'])).stdout).results;
    expect(twin[0]!.path).toBe(LIB_NAMES[5]);
    expect(twin[0]!.score).toBeGreaterThan(0.99);

    // The bare query id:N is the same search, in every front end.
    const bare = await px(['search', `id:${top.id}`, '-k', '3', '--threshold=-1', '--json']);
    expect(bare.code, bare.stderr).toBe(0);
    expect(json<{ results: Hit[] }>(bare.stdout).results.map((h) => h.id)).toEqual(idHits.map((h) => h.id));
    const bareUnknown = await px(['search', 'id:999999']);
    expect(bareUnknown.code).toBe(1);
    expect(bareUnknown.stderr).toMatch(/^error: .*999999.* not found/);

    const missing = await px(['similar', join(tmp, 'nope.jpg')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such image file');
    const unknownId = await px(['similar', '999999']);
    expect(unknownId.code).toBe(1);
    expect(unknownId.stderr).toMatch(/^error: .*999999.* not found/);
  });

  it('shows the status, with the model, backend and counts', async () => {
    const r = await px(['status']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Folders\s+.*library/);
    expect(r.stdout).toMatch(/Backend\s+auto/);
    expect(r.stdout).toMatch(/Images\s+12 indexed · 0 skipped · 0 failed/);
    const st = json<{ images: { indexed: number }; roots: string[]; model: string; dimension: number; exists: boolean }>((await px(['status', '--json'])).stdout);
    expect(st).toMatchObject({ images: { indexed: 12 }, roots: [lib], dimension: 32, exists: true });
    expect(st.model).toContain('tiny');
  });
});

describe('configuration', () => {
  it('applies flags > PIXSEARCH_* > pixsearch.config.json > defaults', async () => {
    const cwd = join(tmp, 'cwd');
    mkdirSync(cwd);
    writeFileSync(join(cwd, 'pixsearch.config.json'), JSON.stringify({ k: 2, threshold: -1 }));
    const count = async (args: string[], extraEnv: Record<string, string> = {}) => {
      const r = await px(['search', 'red', '--json', ...args], { cwd, env: extraEnv });
      expect(r.code, r.stderr).toBe(0);
      return json<{ results: Hit[] }>(r.stdout).results.length;
    };
    expect(await count([])).toBe(2); // config file
    expect(await count([], { PIXSEARCH_K: '3' })).toBe(3); // env beats config
    expect(await count(['-k', '4'], { PIXSEARCH_K: '3' })).toBe(4); // flag beats env

    writeFileSync(join(cwd, 'other.json'), JSON.stringify({ k: 5, threshold: -1 }));
    expect(await count(['--config', 'other.json'])).toBe(5);
  });

  it('names the bad key of a config file', async () => {
    const cwd = join(tmp, 'cwd-bad');
    mkdirSync(cwd);
    writeFileSync(join(cwd, 'pixsearch.config.json'), JSON.stringify({ treshold: 0.2 }));
    const r = await px(['search', 'red'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: .*pixsearch\.config\.json: unknown key "treshold" \(did you mean "threshold"\?\)/);
  });
});

describe('Ctrl-C during index', () => {
  it('stops after the current batch, keeps what was committed (exit 130), and a rerun completes', async () => {
    const big = join(tmp, 'big');
    const names = testImageNames(160, 'big');
    await writeTestImages(big, names, { width: 160, height: 160 });
    const dd = join(tmp, 'data-interrupt');
    // Ctrl-C lands as the first embedding progress line is written (sent by the CLI process to
    // itself, so the point does not depend on when this test process gets to run).
    const child = spawnCli(['index', big, '--model', model, '--data-dir', dd, '--batch-size', '2', '--json'], { env, interruptOn: /Embedding: \d+\/160/ });
    const r = await collect(child);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain('Ctrl-C: stopping indexing after the current batch');
    const partial = json<{ aborted: boolean; embedded: number; indexed: number }>(r.stdout);
    expect(partial.aborted).toBe(true);
    expect(partial.indexed).toBeLessThan(names.length);
    expect(partial.indexed).toBe(partial.embedded);

    const rerun = await px(['index', big, '--data-dir', dd, '--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    const full = json<{ aborted: boolean; embedded: number; indexed: number; unchanged: number }>(rerun.stdout);
    expect(full).toMatchObject({ aborted: false, indexed: names.length, unchanged: partial.indexed });
    expect(full.embedded).toBe(names.length - partial.indexed);
    const st = json<{ images: { indexed: number }; indexSize: number }>((await px(['status', '--json', '--data-dir', dd])).stdout);
    expect(st.images.indexed).toBe(names.length);
    expect(st.indexSize).toBe(names.length);
  });
});

describe('serve', () => {
  it('syncs, prints the URL, answers the API, and stops cleanly on Ctrl-C', async () => {
    const child = spawnCli(['serve', '--port', '0', '--json'], { env });
    const done = collect(child);
    const url = await new Promise<string>((resolve, reject) => {
      let buf = '';
      child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        try {
          resolve((JSON.parse(buf) as { url: string }).url);
        } catch {
          // not complete yet
        }
      });
      child.on('close', () => reject(new Error(`serve exited early: ${buf}`)));
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const status = (await (await fetch(`${url}/api/status`)).json()) as { images: { indexed: number } };
    expect(status.images.indexed).toBe(12);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    const printed = json<{ url: string; indexed: number; token?: string }>(r.stdout);
    expect(printed.indexed).toBe(12);
    expect(printed.token).toBeUndefined(); // loopback: no token
  });

  it('refuses a token that breaks the server rule with exit 2, before syncing', async () => {
    for (const [token, why] of [
      ['abcdefgh', 'it has only 8 characters'],
      ['', 'it is empty'],
      [' '.repeat(16), 'it is all whitespace'],
    ] as const) {
      const r = await px(['serve', lib, '--model', model, '--host', '0.0.0.0', '--port', '0', '--token', token]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`error: --token: ${why}; expected 16 to 512 visible ASCII characters`);
      expect(r.stderr).not.toMatch(/Indexing|Embedding|got "0"/);
    }
  });

  it('uses a numeric-looking --token exactly as given', async () => {
    const token = '00001234567890123456789';
    const child = spawnCli(['serve', '--host', '0.0.0.0', '--port', '0', '--no-sync', '--token', token], { env });
    const done = collect(child);
    await waitForStderr(child, /Press Ctrl-C to stop/);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`token: ${token} `);
  });

  it('prints the token when bound beyond loopback', async () => {
    const child = spawnCli(['serve', '--host', '0.0.0.0', '--port', '0', '--no-sync'], { env });
    const done = collect(child);
    await waitForStderr(child, /Press Ctrl-C to stop/);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/token: \S{16,}/);
    expect(r.stdout).toMatch(/pixsearch is serving 12 images at http:\/\//);
  });

  it('says what to do when no folder is given and ~/Pictures does not exist', async () => {
    const r = await px(['serve', '--data-dir', join(tmp, 'data-fresh'), '--model', model]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no folder given, and the default .*Pictures does not exist/);
  });
});

describe('model', () => {
  it('lists an empty cache, and pull fails offline with instructions', async () => {
    const list = await px(['model', 'list', '--json']);
    expect(list.code).toBe(0);
    expect(json(list.stdout)).toEqual({ cacheDir: env.PIXSEARCH_CACHE, models: [] });
    const pull = await px(['model', 'pull']);
    expect(pull.code).toBe(1);
    expect(pull.stderr).toContain('cannot be downloaded');
    expect(pull.stderr).toContain('--model <folder>');
  });
});

describe('hostile file names', () => {
  // A name that clears the screen, retitles the window (OSC … BEL), splits the line and flips the text direction.
  const EVIL = 'evil\x1b[2J\x1b]0;pwned\x07\nnext line\u202e.png';
  const SHOWN = 'evil\\x1b[2J\\x1b]0;pwned\\x07\\nnext line\\u202e.png';
  // Any control character but the line feeds between lines, or a bidi override, left raw.
  // eslint-disable-next-line no-control-regex
  const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f\x80-\x9f\u202e]/;
  let evilLib: string;
  let evilData: string;
  const ex = (args: string[]) => px([...args, '--data-dir', evilData]);

  beforeAll(async () => {
    evilLib = join(tmp, 'evil-lib');
    evilData = join(tmp, 'evil-data');
    await writeTestImages(evilLib, ['plain.png', EVIL], { width: 96, height: 96 });
    writeFileSync(join(evilLib, 'bad\x1b[31m\nname.jpg'), 'not an image at all');
    const r = await ex(['index', evilLib, '--model', model, '--verbose']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(RAW_CONTROL);
    expect(r.stdout).toContain('bad\\x1b[31m\\nname.jpg');
  });

  it('search prints them escaped, one result per line; --json keeps them exact', async () => {
    const r = await ex(['search', 'anything', '--threshold=-1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(RAW_CONTROL);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines.some((l) => l.includes(`${evilLib}/${SHOWN}  `))).toBe(true);
    const j = json<{ results: Hit[] }>((await ex(['search', 'anything', '--threshold=-1', '--json'])).stdout);
    expect(j.results.map((h) => h.path).sort()).toEqual([EVIL, 'plain.png'].sort());
  });

  it('status prints skipped names escaped; --json keeps them exact', async () => {
    const r = await ex(['status']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(RAW_CONTROL);
    expect(r.stdout).toContain('  bad\\x1b[31m\\nname.jpg  ');
    const st = json<{ skipped: { path: string }[] }>((await ex(['status', '--json'])).stdout);
    expect(st.skipped.map((f) => f.path)).toEqual(['bad\x1b[31m\nname.jpg']);
  });
});

describe('an empty catalog', () => {
  it('index and status refuse it with recovery advice (exit 1), and leave it as it was', async () => {
    const data = join(tmp, 'data-empty-catalog');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'catalog.db'), '');
    for (const args of [['index', lib, '--model', model], ['status'], ['search', 'a dog']]) {
      const r = await px([...args, '--data-dir', data]);
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toContain(`error: the catalog ${join(data, 'catalog.db')} is damaged: it is empty (0 bytes)`);
      expect(r.stderr).toMatch(/hint: restore it from a backup; or move it aside .* and index your folders again/);
      expect(r.stderr).not.toMatch(/schema version|--debug/);
      expect(statSync(join(data, 'catalog.db')).size).toBe(0);
    }
  });
});

describe('a full disk', () => {
  // A real small file system: an 8 MB tmpfs mounted in a private mount namespace (unshare), so
  // nothing is mounted outside this test even if it dies. Root mounts directly; other users map
  // themselves to root in a user namespace (-r).
  it('says "disk full at <dir>" (with the megabytes missing when known), leaves no half-made files, and the rerun finishes', async () => {
    const out = join(tmp, 'disk-full');
    const mnt = join(out, 'mnt');
    mkdirSync(mnt, { recursive: true });
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    // faiss-flat: its native save is the one that checks the free space beforehand (and says how much is missing).
    const cli = `${CLI_COMMAND.map(q).join(' ')} index ${q(lib)} --model ${q(model)} --backend faiss-flat --data-dir "$MNT/data"`;
    const script = [
      'mount -t tmpfs -o size=8m tmpfs "$MNT"',
      // Leaves $1 bytes free on the tmpfs.
      'fill() { rm -f "$MNT/filler"; avail=$(df --output=avail -B1 "$MNT" | tail -1); head -c $((avail - $1)) /dev/zero > "$MNT/filler"; }',
      `fill 40000; ${cli} >"$OUT/1.out" 2>"$OUT/1.err"; echo $? >"$OUT/1.rc"`,
      `fill 900000; ${cli} >"$OUT/2.out" 2>"$OUT/2.err"; echo $? >"$OUT/2.rc"`,
      `rm -f "$MNT/filler"; ${cli} >"$OUT/3.out" 2>"$OUT/3.err"; echo $? >"$OUT/3.rc"`,
      'ls -a "$MNT/data/index" >"$OUT/index.ls"',
    ].join('\n');
    const flags = process.getuid?.() === 0 ? ['--mount', '--propagation', 'private'] : ['--map-root-user', '--mount', '--propagation', 'private'];
    const child = spawn('unshare', [...flags, 'sh', '-c', script], { env: { ...childEnv(env), MNT: mnt, OUT: out }, stdio: ['ignore', 'pipe', 'pipe'] });
    const r = await collect(child, 240_000);
    expect(r.code, r.stderr).toBe(0);
    const run = (n: number) => ({ rc: Number(readFileSync(join(out, `${n}.rc`), 'utf8')), stderr: readFileSync(join(out, `${n}.err`), 'utf8'), stdout: readFileSync(join(out, `${n}.out`), 'utf8') });

    // 1. No room for the catalog: nothing half-made is left behind.
    const first = run(1);
    expect(first.rc, first.stderr).toBe(1);
    expect(first.stderr).toContain(`error: disk full at ${join(mnt, 'data')}`);
    expect(first.stderr).toContain('hint: free some disk space');
    expect(first.stderr).not.toContain('--debug');
    // 2. Room for the catalog, not for the index save: how much is missing is said.
    const second = run(2);
    expect(second.rc, second.stderr).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`error: disk full at ${join(mnt, 'data', 'index').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: free \\d+ MB more is needed`));
    expect(second.stderr).not.toContain('--debug');
    // 3. With space again, the same command finishes; no leftover index folders remain.
    const third = run(3);
    expect(third.rc, third.stderr).toBe(0);
    expect(third.stdout).toMatch(/✓ 12 images in the library/);
    const entries = readFileSync(join(out, 'index.ls'), 'utf8').split('\n').filter((e) => e && e !== '.' && e !== '..');
    expect(entries.filter((e) => e !== 'current.json')).toHaveLength(1);
    expect(readdirSync(mnt)).toEqual([]); // unmounted with the namespace: the folder under it is empty here
  }, 300_000);
});
