// Catalog rows as the engine hands them out (search hits, browse pages, duplicates, getImage).
import type { CatalogImage } from './catalog.js';
import { joinRoot } from './paths.js';
import type { ImageInfo } from './types.js';

const pad = (n: number, w = 2): string => String(Math.abs(n)).padStart(w, '0');

/** `YYYY-MM-DDTHH:mm:ss` of a wall-clock time stored as ms read as UTC (`.sss` when not whole seconds). */
export function localIso(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2023-07-14T10:23:45.000Z
  return iso.endsWith('.000Z') ? iso.slice(0, 19) : iso.slice(0, 23);
}

/** ISO date taken of a row: with its offset when known (or for a file date), else floating local time. */
export function takenIso(image: Pick<CatalogImage, 'meta'>): string | null {
  const m = image.meta;
  if (!m || m.takenLocal === null) return null;
  const local = localIso(m.takenLocal);
  const offset = m.takenOffset ?? (m.dateSource === 'mtime' && m.takenAt !== null ? Math.round((m.takenLocal - m.takenAt) / 60_000) : null);
  if (offset === null) return local;
  return `${local}${offset < 0 ? '-' : '+'}${pad(Math.trunc(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
}

/** The public view of a catalog row under root folder `root`. */
export function toInfo(image: CatalogImage, root: string): ImageInfo {
  const m = image.meta;
  return {
    id: image.id,
    root,
    path: image.relPath,
    absPath: joinRoot(root, image.relPath),
    width: image.width,
    height: image.height,
    format: image.format,
    bytes: image.size,
    takenAt: takenIso(image),
    dateSource: m?.dateSource ?? null,
    camera: image.camera,
    make: m?.make ?? null,
    model: m?.model ?? null,
    lens: m?.lens ?? null,
    latitude: m?.latitude ?? null,
    longitude: m?.longitude ?? null,
    orientation: m?.orientation ?? null,
  };
}
