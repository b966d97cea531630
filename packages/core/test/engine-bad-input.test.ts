// Bad input never aborts a sync: each case becomes a recorded skip (or failure) with a reason,
// visible in the summary and in stats(). Real files, the real tiny CLIP model, real sharp.
import { execFileSync } from 'node:child_process';
import { truncateSync, unlinkSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { NotAFileError, openRegularFile, type Embedder } from '@pixsearch/core';
import { decodeImage } from '@pixsearch/core/clip';
import { bombPng, writeTestImage } from '@pixsearch/core/testing';
import { SearchEngine, type SkippedFile, type SyncSummary } from '@pixsearch/core/engine';
import { clipEmbedder, registerFaiss, removeDir, spawnChild, SpyEmbedder, tempDir, tinyBundle } from './engine-helpers.js';

let dir: string;
let bundle: string;
let clip: Embedder;
let spy: SpyEmbedder;

beforeAll(async () => {
  await registerFaiss();
  dir = await tempDir();
  bundle = await tinyBundle();
  clip = await clipEmbedder(bundle);
  spy = new SpyEmbedder(clip);
});
afterAll(async () => {
  await clip?.close();
  await removeDir(dir);
});

const reasons = (files: SkippedFile[]): Record<string, string> => Object.fromEntries(files.map((f) => [f.path, f.reason]).sort());

test('every kind of bad file is a recorded skip with a reason; good files around them are indexed', async () => {
  const lib = path.join(dir, 'bad');
  await mkdir(lib, { recursive: true });
  await writeTestImage(path.join(lib, 'good.jpg'), 1);
  await writeTestImage(path.join(lib, 'good.png'), 2);
  // A PNG named .jpg: formats come from the content, not the name.
  await writeFile(path.join(lib, 'png-named.jpg'), await sharp({ create: { width: 30, height: 20, channels: 3, background: 'blue' } }).png().toBuffer());
  await writeFile(path.join(lib, 'empty.jpg'), '');
  const jpeg = await sharp({ create: { width: 300, height: 200, channels: 3, background: 'red' } }).jpeg().toBuffer();
  await writeFile(path.join(lib, 'truncated.jpg'), jpeg.subarray(0, jpeg.length >> 1));
  const png = await sharp({ create: { width: 300, height: 200, channels: 3, background: 'green' } }).png().toBuffer();
  await writeFile(path.join(lib, 'truncated.png'), png.subarray(0, png.length >> 1));
  await writeFile(path.join(lib, 'text.jpg'), 'this is a text file, not a photo\n');
  await writeFile(path.join(lib, 'bomb.png'), bombPng(20_000, 20_000)); // 400 M pixels, ~50 KB
  await writeFile(path.join(lib, 'huge-header.gif'), Buffer.concat([Buffer.from('GIF89a'), Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.alloc(20)]));
  await writeFile(path.join(lib, 'bomb.svg'), '<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"><rect width="10" height="10"/></svg>');
  await writeFile(path.join(lib, 'photo.heic'), Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypheic'), Buffer.from([0, 0, 0, 0]), Buffer.from('mif1heic'), Buffer.alloc(64, 7)]));
  await writeFile(path.join(lib, 'old.bmp'), Buffer.concat([Buffer.from('BM'), Buffer.alloc(60)]));
  await symlink(path.join(lib, 'missing-target.jpg'), path.join(lib, 'broken-link.jpg'));
  await writeFile(Buffer.from(path.join(lib, 'caf\xe9-latin1.jpg'), 'latin1'), await readFile(path.join(lib, 'good.jpg')));
  execFileSync('mkfifo', [path.join(lib, 'pipe.jpg')]);
  await mkdir(path.join(lib, 'folder.jpg'));
  await writeTestImage(path.join(lib, 'folder.jpg', 'inside.jpg'), 3);

  spy.reset();
  const engine = await SearchEngine.open({ dataDir: path.join(dir, 'data-bad'), roots: [lib], embedder: spy });
  const summary: SyncSummary = await engine.sync();
  expect(summary.aborted).toBe(false);
  const expected = {
    'bomb.png': 'too-large',
    'bomb.svg': 'too-large',
    'broken-link.jpg': 'broken-symlink',
    'caf\\xE9-latin1.jpg': 'invalid-file-name',
    'empty.jpg': 'empty',
    'huge-header.gif': 'too-large',
    'old.bmp': 'unsupported-format',
    // HEIC decodes (libheif WebAssembly): a file with a bare ftyp box and garbage is damaged.
    'photo.heic': 'corrupt',
    'pipe.jpg': 'not-a-file',
    'text.jpg': 'not-an-image',
    'truncated.jpg': 'truncated',
    // sharp reports a cut PNG as "end of stream": the embedder calls that corrupt.
    'truncated.png': 'truncated',
  };
  expect(reasons(summary.skippedFiles)).toEqual(expected);
  expect(summary.skipped).toBe(Object.keys(expected).length);
  expect(summary.added).toBe(4);
  for (const f of summary.skippedFiles) {
    expect(f.root).toBe(lib);
    expect(f.message.length).toBeGreaterThan(5);
  }
  expect(summary.skippedFiles.find((f) => f.path === 'photo.heic')!.message).toMatch(/HEIC/);
  // Messages are ours, per file: never libvips' shared error buffer, which can hold another file's text.
  for (const f of summary.skippedFiles) {
    expect(f.message).not.toMatch(/vips|libpng|libjpeg|jpegload|pngload|\n/i);
    for (const other of summary.skippedFiles) if (other !== f) expect(f.message).not.toContain(other.path);
  }
  for (const name of ['truncated.jpg', 'truncated.png']) {
    expect(summary.skippedFiles.find((f) => f.path === name)!.message).toBe(`${path.join(lib, name)}: the image data is truncated (the file ends early)`);
  }
  // Only files that passed the cheap checks reached the model: the good ones, the cut ones and the SVG bomb.
  expect(spy.inputs.map((p) => path.basename(String(p))).sort()).toEqual(['bomb.svg', 'good.jpg', 'good.png', 'inside.jpg', 'photo.heic', 'png-named.jpg', 'truncated.jpg', 'truncated.png']);

  const stats = await engine.stats();
  expect(stats.images).toEqual({ indexed: 4, skipped: Object.keys(expected).length, failed: 0 });
  expect(reasons(stats.skipped)).toEqual(expected);
  const all = await engine.search('anything', { k: 100, threshold: -1 });
  expect(all.results.map((r) => r.path).sort()).toEqual(['folder.jpg/inside.jpg', 'good.jpg', 'good.png', 'png-named.jpg']);
  expect(all.results.find((r) => r.path === 'png-named.jpg')).toMatchObject({ format: 'png', width: 30, height: 20 });

  // Unchanged bad files are not read again, and still reported.
  spy.reset();
  const again = await engine.sync();
  expect(spy.imageCalls).toBe(0);
  expect(reasons(again.skippedFiles)).toEqual(expected);
  // A repaired file is indexed by the next sync.
  await writeTestImage(path.join(lib, 'truncated.jpg'), 4);
  const repaired = await engine.sync();
  expect(repaired.updated).toBe(1);
  expect(repaired.embedded).toBe(1);
  expect((await engine.stats()).images.indexed).toBe(5);
  await engine.close();
});

test('an unreadable file is a failed entry retried by every sync (as an unprivileged user: root reads everything)', async () => {
  const lib = path.join(dir, 'perm-lib');
  const dataDir = path.join(dir, 'perm-data');
  await writeTestImage(path.join(lib, 'ok.jpg'), 10);
  await writeTestImage(path.join(lib, 'locked.jpg'), 11);
  await chmod(path.join(lib, 'locked.jpg'), 0o000);
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    // The child runs as nobody: it must reach the model, the library and a data directory it owns.
    await chmod(dir, 0o755);
    execFileSync('chmod', ['-R', 'a+rX', bundle, path.join(lib, 'ok.jpg'), lib]);
    await chmod(path.join(lib, 'locked.jpg'), 0o000);
    await mkdir(dataDir, { recursive: true });
    await chown(dataDir, 65534, 65534);
    const child = await spawnChild(['sync', dataDir, bundle, '4', lib], { uid: 65534, gid: 65534 });
    const { code } = await child.exited;
    expect(code, child.stderr()).toBe(0);
    const summary = child.lines.find((l) => 'summary' in l)!.summary as SyncSummary;
    expect(summary.added).toBe(1);
    expect(reasons(summary.skippedFiles)).toEqual({ 'locked.jpg': 'unreadable' });
    expect(summary.skippedFiles[0]!.message).toMatch(/EACCES|permission/i);
  } else {
    const engine = await SearchEngine.open({ dataDir, roots: [lib], embedder: spy });
    const summary = await engine.sync();
    expect(reasons(summary.skippedFiles)).toEqual({ 'locked.jpg': 'unreadable' });
    await engine.close();
  }
  // Failed (not skipped): once readable, the next sync picks it up although size and mtime did not change.
  await chmod(path.join(lib, 'locked.jpg'), 0o644);
  const engine = await SearchEngine.open({ dataDir, embedder: spy });
  expect((await engine.stats()).images).toEqual({ indexed: 1, skipped: 0, failed: 1 });
  const summary = await engine.sync();
  expect(summary.updated).toBe(1);
  expect((await engine.stats()).images).toEqual({ indexed: 2, skipped: 0, failed: 0 });
  await engine.close();
});

test('a file swapped for a FIFO, or emptied, after the scan saw it is skipped as not-a-file / empty, never a hang', async () => {
  const lib = path.join(dir, 'swap-lib');
  for (const name of ['changed-fifo.jpg', 'changed-empty.jpg', 'kept.jpg']) await writeTestImage(path.join(lib, name), name.length);
  const engine = await SearchEngine.open({ dataDir: path.join(dir, 'swap-data'), roots: [lib], embedder: spy });
  expect((await engine.sync()).added).toBe(3);
  // Changed files (hashed in the hash phase) and new files (hashed right before embedding).
  await writeTestImage(path.join(lib, 'changed-fifo.jpg'), 101, { width: 50, height: 40 });
  await writeTestImage(path.join(lib, 'changed-empty.jpg'), 102, { width: 50, height: 40 });
  await writeTestImage(path.join(lib, 'new-fifo.jpg'), 103);
  await writeTestImage(path.join(lib, 'new-empty.jpg'), 104);
  let swapped = false;
  // The hash phase starts after the scan has stat()ed every file: swap them now (synchronously).
  engine.on('progress', (p: { phase: string }) => {
    if (p.phase !== 'hash' || swapped) return;
    swapped = true;
    for (const name of ['changed-fifo.jpg', 'new-fifo.jpg']) {
      unlinkSync(path.join(lib, name));
      execFileSync('mkfifo', [path.join(lib, name)]);
    }
    for (const name of ['changed-empty.jpg', 'new-empty.jpg']) truncateSync(path.join(lib, name), 0);
  });
  const summary = await engine.sync();
  expect(swapped).toBe(true);
  expect(reasons(summary.skippedFiles)).toEqual({
    'changed-empty.jpg': 'empty',
    'changed-fifo.jpg': 'not-a-file',
    'new-empty.jpg': 'empty',
    'new-fifo.jpg': 'not-a-file',
  });
  expect(summary.skippedFiles.find((f) => f.path === 'new-fifo.jpg')!.message).toMatch(/FIFO/);
  expect(summary.skippedFiles.find((f) => f.path === 'new-empty.jpg')!.message).toMatch(/empty/);
  await engine.close();

  // The building blocks refuse a FIFO at once, without a writer on the other end.
  const fifo = path.join(lib, 'new-fifo.jpg');
  await expect(openRegularFile(fifo)).rejects.toBeInstanceOf(NotAFileError);
  await expect(decodeImage(fifo)).rejects.toMatchObject({ reason: 'not-a-file' });
  const res = await clip.embedImages([fifo, path.join(lib, 'kept.jpg')]);
  expect(res.errors[0]).toMatchObject({ reason: 'not-a-file' });
  expect(res.errors[1]).toBeUndefined();
});
