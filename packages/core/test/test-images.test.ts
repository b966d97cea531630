// The shared test-image writer of @pixsearch/core/testing (every package's tests draw their libraries with it).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drawTestImage, testImageFormat, testImageNames, writeTestImage, writeTestImages, writeTestLibrary } from '@pixsearch/core/testing';
import { removeDir, tempDir } from './engine-helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await tempDir('pixsearch-test-images-');
});
afterAll(async () => {
  await removeDir(dir);
});

describe('test images', () => {
  it('one seed, size and format give the same bytes; other seeds give other pictures, seeds far apart too', async () => {
    const a = await drawTestImage(7, { format: 'png' });
    expect((await drawTestImage(7, { format: 'png' })).equals(a)).toBe(true);
    const raws = await Promise.all([0, 1, 360, 1800, 100_000].map(async (s) => sharp(await drawTestImage(s, { format: 'png' })).raw().toBuffer()));
    expect(new Set(raws.map((r) => r.toString('base64'))).size).toBe(raws.length);
  });

  it('encodes the format a file name asks for, at the requested size', async () => {
    expect(['a.jpg', 'a.JPEG', 'a.png', 'a.webp', 'a.gif', 'a.tif', 'a.tiff', 'a.avif', 'a.bin'].map(testImageFormat)).toEqual([
      'jpeg', 'jpeg', 'png', 'webp', 'gif', 'tiff', 'tiff', 'avif', 'jpeg',
    ]);
    for (const [name, format] of [['x/p.png', 'png'], ['x/p.webp', 'webp'], ['x/p.tif', 'tiff'], ['x/p.jpg', 'jpeg']] as const) {
      const file = path.join(dir, name);
      await writeTestImage(file, 3, { width: 90, height: 60 });
      const meta = await sharp(await readFile(file)).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual([format, 90, 60]);
    }
  });

  it('writes numbered or named sets (seeds from seedBase) and returns their relative paths', async () => {
    const counted = await writeTestImages(path.join(dir, 'set'), 3, { sub: 'a/b', ext: 'png', seedBase: 10 });
    expect(counted).toEqual(['a/b/img-0.png', 'a/b/img-1.png', 'a/b/img-2.png']);
    expect((await readFile(path.join(dir, 'set', counted[1]!))).equals(await drawTestImage(11, { format: 'png' }))).toBe(true);
    const names = testImageNames(4, 'pic');
    expect(names).toEqual(['album-0/pic-0000.jpg', 'album-1/pic-0001.png', 'album-2/pic-0002.webp', 'album-0/pic-0003.jpg']);
    expect(await writeTestImages(path.join(dir, 'named'), names, { width: 64, height: 64 })).toEqual(names);
    expect((await sharp(path.join(dir, 'named', names[2]!)).metadata()).width).toBe(64);
  });

  it('writes a photo-library-like folder, one hostile name included', async () => {
    const root = path.join(dir, 'library');
    const images = await writeTestLibrary(root, 6);
    expect(images).toHaveLength(7);
    expect(images.at(-1)!.rel).toMatch(/^misc\/<img .*"quote"\.png$/);
    for (const img of images) {
      const meta = await sharp(path.join(root, img.rel)).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual([img.format, img.width, img.height]);
    }
    expect((await readdir(root, { recursive: true })).filter((f) => /\.(jpg|png|webp|gif|tif)$/.test(f))).toHaveLength(7);
  });
});
