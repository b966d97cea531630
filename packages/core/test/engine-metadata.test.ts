// Photo metadata read at index time: EXIF dates with and without offsets, camera, lens, GPS,
// orientation, the file-date fallback, and hostile EXIF ignored field by field.
import { utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cameraName, metadataFromTags, readMetadata } from '../src/engine/metadata.js';
import { parseDateBound } from '../src/engine/filter.js';
import { removeDir, tempDir } from './engine-helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await tempDir('pixsearch-meta-');
});
afterAll(async () => {
  await removeDir(dir);
});

const base = () => sharp({ create: { width: 64, height: 48, channels: 3, background: '#4080c0' } });

describe('readMetadata', () => {
  test('date taken with its offset, camera, lens, GPS and orientation', async () => {
    const jpeg = await base()
      .jpeg()
      .withExif({
        IFD0: { Make: 'FUJIFILM', Model: 'X-T4' },
        IFD2: { DateTimeOriginal: '2023:07:14 10:23:45', OffsetTimeOriginal: '+02:00', LensModel: 'XF23mmF2 R WR' },
        IFD3: { GPSLatitudeRef: 'S', GPSLatitude: '33/1 52/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '151/1 12/1 36/1' },
      })
      .toBuffer();
    const m = await readMetadata(jpeg, 0);
    expect(m.dateSource).toBe('exif-original');
    expect(m.takenOffset).toBe(120);
    expect(new Date(m.takenAt!).toISOString()).toBe('2023-07-14T08:23:45.000Z');
    expect(new Date(m.takenLocal!).toISOString()).toBe('2023-07-14T10:23:45.000Z');
    expect(m.make).toBe('FUJIFILM');
    expect(m.model).toBe('X-T4');
    expect(m.lens).toBe('XF23mmF2 R WR');
    expect(m.latitude).toBeCloseTo(-(33 + 52 / 60), 6);
    expect(m.longitude).toBeCloseTo(151 + 12 / 60 + 36 / 3600, 6);
    expect(cameraName(m.make, m.model)).toBe('FUJIFILM X-T4');
  });

  test('CreateDate when there is no DateTimeOriginal; local time when no offset is stated', async () => {
    const jpeg = await base()
      .jpeg()
      .withExif({ IFD0: { Make: 'Canon', Model: 'Canon EOS R5' }, IFD2: { DateTimeDigitized: '2021:12:31 23:59:58' } })
      .toBuffer();
    const m = await readMetadata(jpeg, 0);
    expect(m.dateSource).toBe('exif-create');
    expect(m.takenOffset).toBeNull();
    expect(new Date(m.takenLocal!).toISOString()).toBe('2021-12-31T23:59:58.000Z');
    // Without an offset the wall-clock time is read in this machine's zone.
    expect(m.takenAt).toBe(new Date(2021, 11, 31, 23, 59, 58).getTime());
    expect(cameraName(m.make, m.model)).toBe('Canon EOS R5');
  });

  test('no EXIF: the file date, marked as such', async () => {
    const file = path.join(dir, 'plain.png');
    await writeFile(file, await base().png().toBuffer());
    const when = new Date('2020-02-03T04:05:06Z');
    await utimes(file, when, when);
    const m = await readMetadata(await sharp(file).png().toBuffer(), when.getTime());
    expect(m.dateSource).toBe('mtime');
    expect(m.takenAt).toBe(when.getTime());
    expect(m.make).toBeNull();
    expect(m.latitude).toBeNull();
  });

  test('hostile or bad EXIF is ignored field by field', () => {
    const m = metadataFromTags(
      {
        Make: 'Evil\u001b]8;;http://x\u0007Corp\u0000' + 'x'.repeat(1000),
        Model: 42,
        LensModel: '   ',
        Orientation: 99,
        DateTimeOriginal: '2023:02:30 10:00:00', // no such day
        CreateDate: '2019:05:06 07:08:09',
        OffsetTimeDigitized: '+99:00', // invalid offset: ignored, the date kept
        GPSLatitude: [91, 0, 0],
        GPSLatitudeRef: 'N',
        GPSLongitude: [10, 0, 0],
        GPSLongitudeRef: 'E',
      },
      1_600_000_000_000,
    );
    // eslint-disable-next-line no-control-regex
    expect(m.make).not.toMatch(/[\u0000-\u001f]/);
    expect(m.make!.length).toBeLessThanOrEqual(128);
    expect(m.make!.startsWith('Evil]8;;http://xCorp')).toBe(true);
    expect(m.model).toBeNull();
    expect(m.lens).toBeNull();
    expect(m.orientation).toBeNull();
    expect(m.dateSource).toBe('exif-create');
    expect(new Date(m.takenLocal!).toISOString()).toBe('2019-05-06T07:08:09.000Z');
    expect(m.takenOffset).toBeNull();
    expect(m.latitude).toBeNull();
    expect(m.longitude).toBeNull();
    // Getters that throw do not take the other fields down.
    const trap = Object.defineProperty({ Make: 'Nikon' }, 'Model', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    expect(metadataFromTags(trap, 5).make).toBe('Nikon');
  });

  test('garbage, truncated and empty inputs never throw', async () => {
    const jpeg = await base().jpeg().withExif({ IFD0: { Make: 'Sony' }, IFD2: { DateTimeOriginal: '2022:01:01 00:00:00' } }).toBuffer();
    for (const bytes of [Buffer.alloc(0), Buffer.from('not an image'), jpeg.subarray(0, 40), Buffer.alloc(4096, 0xff)]) {
      const m = await readMetadata(bytes, 1000);
      expect(m.dateSource === 'mtime' || m.dateSource === 'exif-original').toBe(true);
    }
    // A corrupted IFD count: the parser must not hang or throw.
    const broken = Buffer.from(jpeg);
    const tiff = broken.indexOf(Buffer.from('Exif\0\0')) + 6;
    broken.writeUInt16BE(0xffff, tiff + 8);
    await expect(readMetadata(broken, 1000)).resolves.toBeDefined();
  });
});

describe('parseDateBound', () => {
  test('dates, date-times, zones and inclusive ends', () => {
    expect(parseDateBound('2023-07-01', false, 'from')).toEqual({ ms: Date.UTC(2023, 6, 1), local: true });
    expect(parseDateBound('2023-07-01', true, 'to')).toEqual({ ms: Date.UTC(2023, 6, 2) - 1, local: true });
    expect(parseDateBound('2023-07-01T10:00', true, 'to')).toEqual({ ms: Date.UTC(2023, 6, 1, 10, 1) - 1, local: true });
    expect(parseDateBound('2023-07-01T10:00:00Z', false, 'from')).toEqual({ ms: Date.UTC(2023, 6, 1, 10), local: false });
    expect(parseDateBound('2023-07-01T10:00:00+02:00', false, 'from')).toEqual({ ms: Date.UTC(2023, 6, 1, 8), local: false });
    for (const bad of ['2023-02-30', '2023-13-01', 'yesterday', '2023-07-01T25:00', '']) expect(() => parseDateBound(bad, false, 'from')).toThrow(/from/);
  });
});
