/**
 * Real image folders for the server tests, drawn with sharp: colourful, distinct pictures of
 * several formats and aspect ratios in nested folders (plus one hostile file name).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';

export interface FixtureImage {
  /** Path relative to the folder, `/`-separated. */
  rel: string;
  width: number;
  height: number;
  format: 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff';
}

const SHAPES = ['circles', 'stripes', 'mountains', 'grid', 'rings', 'waves'] as const;
const SIZES: [number, number][] = [
  [640, 480],
  [480, 640],
  [800, 450],
  [512, 512],
  [900, 450],
  [600, 800],
];
const FORMATS: FixtureImage['format'][] = ['jpeg', 'png', 'webp', 'jpeg', 'gif', 'tiff', 'png', 'jpeg'];
const FOLDERS = ['', 'animals', 'trips/2019', 'trips/2021/summer', 'misc'];
const NAMES = ['harbour', 'meadow', 'sunrise', 'glacier', 'market', 'forest', 'desert', 'lagoon', 'canyon', 'orchard', 'skyline', 'reef'];

function svgFor(i: number, w: number, h: number): string {
  const hue = (i * 47) % 360;
  const hue2 = (hue + 60 + (i % 3) * 40) % 360;
  const shape = SHAPES[i % SHAPES.length]!;
  let body = '';
  if (shape === 'circles') {
    for (let j = 0; j < 7; j++) body += `<circle cx="${(w * ((j * 37 + 11 * i) % 100)) / 100}" cy="${(h * ((j * 53 + 7 * i + 20) % 100)) / 100}" r="${30 + ((j * 29 + i * 13) % 90)}" fill="hsl(${(hue2 + j * 20) % 360} 80% 60% / 0.7)"/>`;
  } else if (shape === 'stripes') {
    for (let x = -h; x < w; x += 60) body += `<path d="M${x} 0 L${x + h} ${h}" stroke="hsl(${hue2} 85% 65% / 0.6)" stroke-width="24"/>`;
  } else if (shape === 'mountains') {
    body += `<circle cx="${w * 0.75}" cy="${h * 0.28}" r="${h * 0.12}" fill="hsl(${(hue + 180) % 360} 90% 75%)"/>`;
    body += `<path d="M0 ${h} L${w * 0.3} ${h * 0.4} L${w * 0.55} ${h * 0.75} L${w * 0.8} ${h * 0.35} L${w} ${h * 0.7} L${w} ${h} Z" fill="hsl(${hue2} 45% 25%)"/>`;
  } else if (shape === 'grid') {
    for (let x = 20; x < w; x += 80) for (let y = 20; y < h; y += 80) body += `<rect x="${x}" y="${y}" width="50" height="50" rx="10" fill="hsl(${(hue2 + x + y) % 360} 75% 62% / 0.85)"/>`;
  } else if (shape === 'rings') {
    for (let r = 20; r < Math.max(w, h); r += 34) body += `<circle cx="${w / 2}" cy="${h / 2}" r="${r}" fill="none" stroke="hsl(${(hue2 + r) % 360} 80% 65% / 0.7)" stroke-width="12"/>`;
  } else {
    for (let y = 40; y < h; y += 70) body += `<path d="M0 ${y} Q ${w / 4} ${y - 40} ${w / 2} ${y} T ${w} ${y}" fill="none" stroke="hsl(${hue2} 85% 70% / 0.75)" stroke-width="14"/>`;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl(${hue} 70% 45%)"/><stop offset="1" stop-color="hsl(${hue2} 70% 30%)"/></linearGradient></defs><rect width="${w}" height="${h}" fill="url(#g)"/>${body}</svg>`;
}

/** Encodes a picture (index `i` picks colours and shapes) at `w`×`h` in `format`. */
export async function drawImage(i: number, w: number, h: number, format: FixtureImage['format']): Promise<Buffer> {
  const img = sharp(Buffer.from(svgFor(i, w, h)));
  switch (format) {
    case 'jpeg':
      return img.jpeg({ quality: 85 }).toBuffer();
    case 'png':
      return img.png().toBuffer();
    case 'webp':
      return img.webp({ quality: 80 }).toBuffer();
    case 'gif':
      return img.gif().toBuffer();
    case 'tiff':
      return img.tiff().toBuffer();
  }
}

/**
 * Writes `count` images into `dir` (nested folders, formats and aspect ratios vary) and one with
 * a hostile name; returns what it wrote.
 */
export async function makeImageFolder(dir: string, count = 24): Promise<FixtureImage[]> {
  const out: FixtureImage[] = [];
  for (let i = 0; i < count; i++) {
    const [width, height] = SIZES[i % SIZES.length]!;
    const format = FORMATS[i % FORMATS.length]!;
    const folder = FOLDERS[i % FOLDERS.length]!;
    const ext = format === 'jpeg' ? 'jpg' : format === 'tiff' ? 'tif' : format;
    const rel = path.posix.join(folder, `${NAMES[i % NAMES.length]}-${String(i).padStart(2, '0')}.${ext}`);
    await mkdir(path.join(dir, folder), { recursive: true });
    await writeFile(path.join(dir, rel), await drawImage(i, width, height, format));
    out.push({ rel, width, height, format });
  }
  // A name that would break naive HTML building.
  const hostile = `misc/<img src=x onerror=alert(1)> "quote".png`;
  await mkdir(path.join(dir, 'misc'), { recursive: true });
  await writeFile(path.join(dir, hostile), await drawImage(count, 400, 300, 'png'));
  out.push({ rel: hostile, width: 400, height: 300, format: 'png' });
  return out;
}
