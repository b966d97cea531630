// The registry seen from the command line: a backend package in a folder that neither core nor
// the CLI names (core's test/fixtures/backend-plugin, copied next to a link to @pixsearch/core as
// an install would leave it) is listed by `pixsearch backends` and indexes and searches a library
// by its name, when PIXSEARCH_BACKENDS names the folder that holds it.
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testImageNames, writeTestImages } from '@pixsearch/core/testing';
import { REPO, runCli } from './helpers.js';

let tmp: string;
let env: Record<string, string>;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'pixsearch-cli-plugin-'));
  const plugins = join(tmp, 'plugins');
  cpSync(join(REPO, 'packages/core/test/fixtures/backend-plugin'), join(plugins, 'toy'), { recursive: true });
  mkdirSync(join(plugins, 'toy/node_modules/@pixsearch'), { recursive: true });
  symlinkSync(join(REPO, 'packages/core'), join(plugins, 'toy/node_modules/@pixsearch/core'), 'dir');
  env = { HOME: join(tmp, 'home'), PIXSEARCH_CACHE: join(tmp, 'cache'), PIXSEARCH_DATA_DIR: join(tmp, 'data'), PIXSEARCH_BACKENDS: plugins };
  mkdirSync(env.HOME!, { recursive: true });
  await writeTestImages(join(tmp, 'library'), testImageNames(6), { width: 96, height: 96 });
  const gen = await runCli(['model', 'generate', '--preset', 'tiny', '--out', join(tmp, 'model')], { env });
  expect(gen.code, gen.stderr).toBe(0);
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('a backend added as one folder', () => {
  it('is listed by `pixsearch backends` and in --help', async () => {
    const list = await runCli(['backends', '--json'], { env });
    expect(list.code, list.stderr).toBe(0);
    const toy = (JSON.parse(list.stdout) as { name: string; library: string }[]).find((b) => b.name === 'toy-flat');
    expect(toy).toMatchObject({ library: 'toy@1.0.0' });
    expect((await runCli(['index', '--help'], { env })).stdout).toMatch(/Vector index: .*toy-flat/);
  });

  it('indexes and searches a library by its name; the library remembers it', async () => {
    const index = await runCli(['index', join(tmp, 'library'), '--model', join(tmp, 'model'), '--backend', 'toy-flat', '--json'], { env });
    expect(index.code, index.stderr).toBe(0);
    expect(JSON.parse(index.stdout)).toMatchObject({ added: 6 });
    const status = await runCli(['status', '--json'], { env });
    expect(JSON.parse(status.stdout)).toMatchObject({ backend: 'toy-flat', indexSize: 6 });
    const search = await runCli(['search', 'a red square', '--threshold=-1', '-k', '3', '--json'], { env });
    expect(search.code, search.stderr).toBe(0);
    expect((JSON.parse(search.stdout) as { results: unknown[] }).results).toHaveLength(3);
    // Without the folder the library's backend is unknown: a clear error, not a crash.
    const missing = await runCli(['search', 'a red square', '--json'], { env: { ...env, PIXSEARCH_BACKENDS: undefined } });
    expect(missing.code).not.toBe(0);
    expect((JSON.parse(missing.stderr) as { error: { message: string } }).error.message).toMatch(/unknown backend "toy-flat"/);
  });
});
