import sharp from 'sharp';
import { describe, expect, test } from 'vitest';
import { mimeForFormat, sniffImage } from '@pixsearch/core/engine';

const encode = async (format: 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'avif', opts: Record<string, unknown> = {}): Promise<Buffer> => {
  const img = sharp({ create: { width: 37, height: 23, channels: 4, background: { r: 10, g: 200, b: 30, alpha: 0.5 } } });
  return img[format](opts).toBuffer();
};

describe('sniffImage', () => {
  test.each([
    ['jpeg', {}],
    ['png', {}],
    ['webp', {}],
    ['webp', { lossless: true }],
    ['gif', {}],
    ['tiff', {}],
  ] as const)('%s %j: format and declared size from the header', async (format, opts) => {
    expect(sniffImage(await encode(format, opts))).toEqual({ format, width: 37, height: 23 });
  });

  test('JPEG dimensions after an EXIF segment; WebP with alpha (VP8X); AVIF', async () => {
    const exif = await sharp({ create: { width: 64, height: 48, channels: 3, background: 'red' } }).withExif({ IFD0: { Copyright: 'x'.repeat(2000) } }).jpeg().toBuffer();
    expect(sniffImage(exif)).toEqual({ format: 'jpeg', width: 64, height: 48 });
    const vp8x = await sharp({ create: { width: 64, height: 48, channels: 4, background: { r: 1, g: 2, b: 3, alpha: 0.2 } } }).webp().toBuffer();
    expect(sniffImage(vp8x)).toEqual({ format: 'webp', width: 64, height: 48 });
    expect(sniffImage(await encode('avif')).format).toBe('avif');
  });

  test('formats sharp cannot decode are named, unknown content is unknown', () => {
    const ftyp = (brand: string, compat: string[]) => Buffer.concat([Buffer.from([0, 0, 0, 16 + 4 * compat.length]), Buffer.from('ftyp' + brand + '\0\0\0\0' + compat.join(''))]);
    expect(sniffImage(ftyp('heic', ['mif1', 'heic'])).format).toBe('heic');
    expect(sniffImage(ftyp('mif1', ['mif1', 'avif'])).format).toBe('avif');
    expect(sniffImage(ftyp('isom', ['mp41'])).format).toBe('unknown');
    expect(sniffImage(Buffer.from('BM\0\0\0\0')).format).toBe('bmp');
    expect(sniffImage(Buffer.from([0xff, 0x0a, 1, 2])).format).toBe('jxl');
    expect(sniffImage(Buffer.from('hello, I am text')).format).toBe('unknown');
    expect(sniffImage(Buffer.alloc(0)).format).toBe('unknown');
    expect(sniffImage(Buffer.from([0xff, 0xd8, 0xff])).format).toBe('jpeg');
  });

  test('SVG: with BOM, XML prolog, doctype; but not any XML', () => {
    expect(sniffImage(Buffer.from('\uFEFF<?xml version="1.0"?>\n<!DOCTYPE svg>\n<svg xmlns="http://www.w3.org/2000/svg"/>')).format).toBe('svg');
    expect(sniffImage(Buffer.from('  <svg width="1" height="1"></svg>')).format).toBe('svg');
    expect(sniffImage(Buffer.from('<?xml version="1.0"?><html></html>')).format).toBe('unknown');
  });

  test('declared sizes of bombs are read without decoding', () => {
    const png = Buffer.alloc(33);
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(png);
    png.writeUInt32BE(13, 8);
    png.write('IHDR', 12, 'ascii');
    png.writeUInt32BE(100_000, 16);
    png.writeUInt32BE(90_000, 20);
    expect(sniffImage(png)).toEqual({ format: 'png', width: 100_000, height: 90_000 });
    const gif = Buffer.concat([Buffer.from('GIF89a'), Buffer.from([0xff, 0xff, 0x10, 0x27])]);
    expect(sniffImage(gif)).toEqual({ format: 'gif', width: 65535, height: 10000 });
  });
});

describe('mimeForFormat', () => {
  test('names the MIME type of every format the sniffer reports, and nothing for unknown ones', () => {
    expect(mimeForFormat('jpeg')).toBe('image/jpeg');
    expect(mimeForFormat('heic')).toBe('image/heic');
    expect(mimeForFormat('HEIF')).toBe('image/heic');
    expect(mimeForFormat('svg')).toBe('image/svg+xml');
    expect(mimeForFormat('unknown')).toBeUndefined();
  });
});
