// The CLI on photos with EXIF: metadata filters and date sort, output you can act on (absolute
// paths, ids, --paths, OSC 8 links, no raw control characters), and `pixsearch duplicates`.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyBundle, testScene } from '@pixsearch/core/testing';
import { runCli } from './helpers.js';

let dir: string;
let lib: string;
let env: Record<string, string>;
const EVIL = 'evil\u001b[2Jname\u0007.jpg';

async function photo(rel: string, i: number, exif: { make?: string; model?: string; date?: string }): Promise<void> {
  const file = join(lib, rel);
  mkdirSync(dirname(file), { recursive: true });
  const tags: Record<string, Record<string, string>> = { IFD0: {}, IFD2: {} };
  if (exif.make) tags.IFD0!.Make = exif.make;
  if (exif.model) tags.IFD0!.Model = exif.model;
  if (exif.date) tags.IFD2!.DateTimeOriginal = exif.date;
  writeFileSync(file, await (await testScene(i, { width: 160, height: 120 })).jpeg().withExif(tags).toBuffer());
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pixsearch-cli-browse-'));
  lib = join(dir, 'lib');
  await photo('trips/beach.jpg', 1, { make: 'FUJIFILM', model: 'X-T4', date: '2023:07:14 10:00:00' });
  await photo('trips/dunes.jpg', 2, { make: 'FUJIFILM', model: 'X-T4', date: '2023:07:20 18:30:00' });
  await photo('home/snow.jpg', 3, { make: 'Canon', model: 'Canon EOS R5', date: '2022:12:24 12:00:00' });
  await photo(`home/${EVIL}`, 4, { make: 'Apple', model: 'iPhone 12', date: '2021:03:01 09:00:00' });
  copyFileSync(join(lib, 'home/snow.jpg'), join(lib, 'home/snow copy.jpg'));
  env = { PIXSEARCH_DATA_DIR: join(dir, 'data'), PIXSEARCH_NO_SERVER: '1' };
  const r = await runCli(['index', lib, '--model', await ensureTinyBundle()], { env });
  expect(r.code, r.stderr).toBe(0);
}, 180_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('search with filters and date sort', () => {
  it('--from/--to/--camera/--sort select the exact set, printed with ids and absolute paths', async () => {
    const r = await runCli(['search', 'holiday', '--threshold=-1', '--from', '2023-07-01', '--to', '2023-07-31', '--sort', 'date-desc'], { env });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^ *1\\. -?\\d\\.\\d{4}  #\\d+ +${join(lib, 'trips/dunes.jpg').replace(/[/.]/g, '\\$&')}  2023-07-20 18:30 · FUJIFILM X-T4$`));
    expect(lines[1]).toContain(join(lib, 'trips/beach.jpg'));
    expect(r.stderr).toContain('2 results of 2');
    const json = await runCli(['search', 'x', '--threshold=-1', '--camera', 'canon', '--json'], { env });
    const body = JSON.parse(json.stdout) as { total: number; results: { absPath: string; camera: string; takenAt: string; id: number }[] };
    expect(body.total).toBe(2);
    expect(body.results.map((x) => x.absPath).sort()).toEqual([join(lib, 'home/snow copy.jpg'), join(lib, 'home/snow.jpg')]);
    expect(body.results[0]).toMatchObject({ camera: 'Canon EOS R5', takenAt: '2022-12-24T12:00:00' });
    const bad = await runCli(['search', 'x', '--from', 'last summer'], { env });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/from/);
  });

  it('--paths prints one absolute path per line, exact into a pipe', async () => {
    const r = await runCli(['search', 'x', '--threshold=-1', '--paths', '--sort', 'date-asc'], { env });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(5);
    // A pipe gets the exact name (control characters included) for the next program to open.
    expect(lines[0]).toBe(join(lib, 'home', EVIL));
    expect(lines.slice(1, 3).sort()).toEqual([join(lib, 'home/snow copy.jpg'), join(lib, 'home/snow.jpg')]);
    expect(lines.slice(3)).toEqual([join(lib, 'trips/beach.jpg'), join(lib, 'trips/dunes.jpg')]);
  });

  it('human output never prints a control character raw; OSC 8 links when forced', async () => {
    const r = await runCli(['search', 'x', '--threshold=-1', '--camera', 'iphone'], { env: { ...env, FORCE_HYPERLINK: '1' } });
    expect(r.code, r.stderr).toBe(0);
    // The only ESC sequences are the OSC 8 link brackets; the name's own ESC and BEL are escaped.
    // eslint-disable-next-line no-control-regex
    const withoutLinks = r.stdout.replace(/\u001b\]8;;[^\u001b]*\u001b\\/g, '');
    // eslint-disable-next-line no-control-regex
    expect(withoutLinks).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
    expect(withoutLinks).toContain('evil\\x1b[2Jname\\x07.jpg');
    expect(r.stdout).toContain(`\u001b]8;;file://${join(lib, 'home')}/evil%1B%5B2Jname%07.jpg\u001b\\`);
  });
});

describe('pixsearch duplicates', () => {
  it('finds the exact copy (JSON, CSV, paths), and never touches files', async () => {
    const json = await runCli(['duplicates', '--threshold', '1', '--json'], { env });
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as { groups: { kind: string; keeper: number; images: { absPath: string; id: number }[] }[] };
    expect(report.groups).toHaveLength(1);
    expect(report.groups[0]!.kind).toBe('exact');
    expect(report.groups[0]!.images.map((m) => m.absPath)).toEqual([join(lib, 'home/snow.jpg'), join(lib, 'home/snow copy.jpg')]);
    const csv = await runCli(['duplicates', '--threshold', '1', '--csv'], { env });
    expect(csv.stdout.trim().split('\n')).toHaveLength(3);
    const paths = await runCli(['duplicates', '--threshold', '1', '--paths'], { env });
    expect(paths.stdout).toBe(`${join(lib, 'home/snow copy.jpg')}\n`);
    const human = await runCli(['duplicates', '--threshold', '1'], { env });
    expect(human.stdout).toContain('exact copies');
    expect(human.stderr).toContain('Nothing was deleted or moved');
    const again = await runCli(['index'], { env });
    expect(again.stderr).not.toMatch(/[1-9]\d* removed/);
  });
});
