// Metadata filters shared by search, browse and facets: the user-facing options are validated
// and resolved once into a CatalogFilter, which the catalog turns into SQL and the search loop
// checks in JS (`matchesFilter`) on rows it got from the index.
import { InvalidArgumentError } from '../errors.js';
import type { CatalogFilter, CatalogImage } from './catalog.js';

/** Sort orders of search results. `relevance` (best score first) is the default of a query. */
export type SortOrder = 'relevance' | 'date-desc' | 'date-asc';

/** Metadata filters accepted by `search`, `similar`, `browse` and `facets` (all optional, combined with AND). */
export interface FilterOptions {
  /** Keep only images whose path (root-relative, or absolute when it starts with `/`) starts with this prefix. */
  pathPrefix?: string;
  /**
   * Taken on or after this moment: an ISO date (`2023-07-01`, the start of that day) or date-time
   * (`2023-07-01T08:00`, optionally with `Z` or `+02:00`), or a Date. Without a time zone it is
   * compared with the photo's local (camera) time; with one, with the exact instant.
   */
  from?: string | Date;
  /** Taken on or before this moment (inclusive: a date means until the end of that day). Same forms as `from`. */
  to?: string | Date;
  /** Camera names (any of them); each matches a camera whose name contains it, case-insensitively (`fuji`, `X-T4`, `Canon EOS R5`). */
  camera?: string | readonly string[];
  /** Formats (any of them): `jpeg` (or `jpg`), `png`, `webp`, `gif`, `tiff`, `avif`, `heic`, `svg`. */
  format?: string | readonly string[];
  /** Minimum width / height in pixels (as displayed, after EXIF orientation). */
  minWidth?: number;
  minHeight?: number;
  /** `true`: only images with a GPS position; `false`: only images without. */
  hasLocation?: boolean;
}

const FORMAT_ALIASES: Record<string, string> = { jpg: 'jpeg', jpe: 'jpeg', jfif: 'jpeg', tif: 'tiff', heif: 'heic', hif: 'heic' };

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Parses a date bound. `end` makes a bound inclusive at the bound's resolution: `2023-07-01` as
 * `to` means until 2023-07-01T23:59:59.999, `…T10:00` until 10:00:59.999. Throws InvalidArgumentError.
 */
export function parseDateBound(value: string | Date, end: boolean, name: string): { ms: number; local: boolean } {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new InvalidArgumentError(`${name}: invalid date`);
    return { ms: value.getTime(), local: false };
  }
  if (typeof value !== 'string') throw new InvalidArgumentError(`${name} must be an ISO date or date-time`);
  const m = DATE_RE.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`${name} must be an ISO date (2023-07-01) or date-time (2023-07-01T08:00, optionally with Z or +02:00), got ${JSON.stringify(value.slice(0, 64))}`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const hasTime = m[4] !== undefined;
  const [h, mi, s] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  const frac = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) throw new InvalidArgumentError(`${name}: ${value} is not a valid date`);
  let ms = Date.UTC(y, mo - 1, d, h, mi, s, frac);
  const check = new Date(ms);
  if (check.getUTCDate() !== d || check.getUTCMonth() !== mo - 1) throw new InvalidArgumentError(`${name}: ${value} is not a valid date`);
  if (end) {
    // Inclusive at the precision given.
    const step = !hasTime ? 86_400_000 : m[6] === undefined ? 60_000 : m[7] === undefined ? 1000 : 1;
    ms += step - 1;
  }
  if (m[8] === undefined) return { ms, local: true };
  const zone = m[8].toUpperCase();
  let offset = 0;
  if (zone !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    offset = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3]));
    if (Math.abs(offset) > 14 * 60) throw new InvalidArgumentError(`${name}: invalid time zone offset ${m[8]}`);
  }
  return { ms: ms - offset * 60_000, local: false };
}

const list = (v: string | readonly string[] | undefined): string[] => (v === undefined ? [] : typeof v === 'string' ? [v] : [...v]);

/** Validates filter options; returns the catalog filter, or undefined when no filter is set. Throws InvalidArgumentError. */
export function resolveFilter(o: FilterOptions): CatalogFilter | undefined {
  const f: CatalogFilter = {};
  const prefix = o.pathPrefix === undefined || o.pathPrefix === '' ? undefined : o.pathPrefix;
  if (prefix !== undefined) {
    if (typeof prefix !== 'string' || prefix.length > 4096 || prefix.includes('\0')) throw new InvalidArgumentError('pathPrefix must be a string of at most 4096 characters');
    f.pathPrefix = prefix;
  }
  if (o.from !== undefined && o.from !== '') f.takenFrom = parseDateBound(o.from, false, 'from');
  if (o.to !== undefined && o.to !== '') f.takenTo = parseDateBound(o.to, true, 'to');
  const cameras = list(o.camera).map((c) => (typeof c === 'string' ? c.trim() : c));
  if (cameras.length > 0) {
    if (cameras.length > 100 || cameras.some((c) => typeof c !== 'string' || c === '' || c.length > 256)) {
      throw new InvalidArgumentError('camera must be up to 100 non-empty names of at most 256 characters');
    }
    f.cameras = [...new Set(cameras.map(asciiLower))];
  }
  const formats = list(o.format).map((x) => (typeof x === 'string' ? x.trim().toLowerCase().replace(/^\./, '') : x));
  if (formats.length > 0) {
    if (formats.length > 32 || formats.some((x) => typeof x !== 'string' || !/^[a-z0-9+-]{1,16}$/.test(x))) {
      throw new InvalidArgumentError('format must be up to 32 format names such as jpeg, png, webp');
    }
    f.formats = [...new Set(formats.map((x) => FORMAT_ALIASES[x] ?? x))];
  }
  for (const key of ['minWidth', 'minHeight'] as const) {
    const v = o[key];
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < 0 || v > 1_000_000) throw new InvalidArgumentError(`${key} must be an integer in 0..1000000, got ${String(v)}`);
    if (v > 0) f[key] = v;
  }
  if (o.hasLocation !== undefined) {
    if (typeof o.hasLocation !== 'boolean') throw new InvalidArgumentError('hasLocation must be true or false');
    f.hasLocation = o.hasLocation;
  }
  if (f.takenFrom && f.takenTo && f.takenFrom.local === f.takenTo.local && f.takenFrom.ms > f.takenTo.ms) {
    throw new InvalidArgumentError('from is after to');
  }
  return Object.keys(f).length === 0 ? undefined : f;
}

/** Lower-cases ASCII letters only (the same rule as SQLite's lower()). */
export function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/** True when the image's path (relative, or absolute for a `/` prefix) starts with `prefix`. */
export function matchesPrefix(image: Pick<CatalogImage, 'relPath'>, rootPath: string | undefined, prefix: string): boolean {
  if (!prefix.startsWith('/')) return image.relPath.startsWith(prefix);
  if (rootPath === undefined) return false;
  return `${rootPath === '/' ? '' : rootPath}/${image.relPath}`.startsWith(prefix);
}

/** The JS twin of the catalog's SQL filter, for rows that come from the index. */
export function matchesFilter(image: CatalogImage, rootPath: string | undefined, f: CatalogFilter): boolean {
  if (f.pathPrefix !== undefined && !matchesPrefix(image, rootPath, f.pathPrefix)) return false;
  const m = image.meta;
  if (f.takenFrom || f.takenTo) {
    for (const [bound, lower] of [[f.takenFrom, true], [f.takenTo, false]] as const) {
      if (!bound) continue;
      const t = bound.local ? m?.takenLocal : m?.takenAt;
      if (t === null || t === undefined) return false;
      if (lower ? t < bound.ms : t > bound.ms) return false;
    }
  }
  if (f.cameras) {
    const cam = image.camera === null ? '' : asciiLower(image.camera);
    if (cam === '' || !f.cameras.some((c) => cam.includes(c))) return false;
  }
  if (f.formats && !f.formats.includes(image.format)) return false;
  if (f.minWidth !== undefined && image.width < f.minWidth) return false;
  if (f.minHeight !== undefined && image.height < f.minHeight) return false;
  if (f.hasLocation !== undefined) {
    const located = m !== null && m.latitude !== null && m.longitude !== null;
    if (located !== f.hasLocation) return false;
  }
  return true;
}

/**
 * Folder facet: every directory level above each image (absolute), with the images beneath it,
 * sorted by path, at most `limit` entries. Shared by the catalogs (one pass over the paths).
 */
export function folderCounts(rows: Iterable<{ root: string; rel: string }>, limit = 5000): { path: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const { root, rel } of rows) {
    counts.set(root, (counts.get(root) ?? 0) + 1);
    const base = root === '/' ? '' : root;
    let cut = rel.indexOf('/');
    while (cut !== -1) {
      const dir = `${base}/${rel.slice(0, cut)}`;
      counts.set(dir, (counts.get(dir) ?? 0) + 1);
      cut = rel.indexOf('/', cut + 1);
    }
  }
  return [...counts]
    .map(([path, count]) => ({ path, count }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .slice(0, limit);
}
