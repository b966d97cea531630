// Thumbnails of HEIC (HEVC: not decodable by sharp's libvips) and camera RAW files go through the
// embedder's decoder; fixtures are made here (heif-enc from Debian libheif-examples, a TIFF-shaped RAW).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import type { ImageRecord } from '@pixsearch/core/engine';
import { rawLikeTiff } from '@pixsearch/core/testing';
import { ThumbnailCache } from '../src/thumbnails.js';

const dir = mkdtempSync(path.join(tmpdir(), 'pixsearch-thumbs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const record = (file: string, id: number): ImageRecord => {
  const st = statSync(file);
  return { id, root: dir, path: path.basename(file), absPath: file, size: st.size, mtimeMs: st.mtimeMs, hash: `${id}`.padEnd(64, 'a'), width: 0, height: 0, format: '', status: 'indexed', reason: null, bytes: st.size, takenAt: null, dateSource: null, camera: null, make: null, model: null, lens: null, latitude: null, longitude: null, orientation: null };
};

describe('thumbnails of phone and camera formats', () => {
  it('makes WebP thumbnails of HEIC and of a RAW file’s preview, oriented', async () => {
    const jpg = path.join(dir, 'src.jpg');
    await sharp({ create: { width: 400, height: 300, channels: 3, background: { r: 200, g: 40, b: 40 } } }).jpeg().toFile(jpg);
    const heic = path.join(dir, 'IMG_0001.HEIC');
    execFileSync('heif-enc', ['-q', '60', jpg, '-o', heic]);
    // A DNG-like TIFF: IFD0 with orientation 6 and a JPEG preview.
    const preview = await sharp({ create: { width: 600, height: 400, channels: 3, background: { r: 20, g: 180, b: 60 } } }).jpeg().toBuffer();
    const dng = path.join(dir, 'IMG_0002.DNG');
    writeFileSync(dng, rawLikeTiff(preview, { orientation: 6 }));
    const cache = new ThumbnailCache(path.join(dir, 'cache'));
    const h = await cache.get(record(heic, 1), 128);
    const hm = await sharp(h.bytes).metadata();
    expect([hm.format, hm.width, hm.height]).toEqual(['webp', 128, 96]);
    const d = await cache.get(record(dng, 2), 128);
    const dm = await sharp(d.bytes).metadata();
    expect([dm.format, dm.width, dm.height]).toEqual(['webp', 85, 128]); // 600×400 turned by orientation 6
    const { dominant } = await sharp(d.bytes).stats();
    expect(dominant.g).toBeGreaterThan(dominant.r);
  });
});
