// Photo metadata read at index time from the first bytes of a file (EXIF through exifr): date
// taken, camera, lens, GPS position, orientation. Never decodes pixels; bad or hostile EXIF is
// ignored field by field (a field that does not validate is null, the others are kept).
import exifr from 'exifr';

/** Bytes from the start of a file that metadata is read from (EXIF sits in the header). */
export const METADATA_HEAD_BYTES = 128 * 1024;

/**
 * Where `takenAt` comes from: the EXIF DateTimeOriginal, the EXIF CreateDate (DateTimeDigitized),
 * or the file's modification time when the file states no date.
 */
export type DateSource = 'exif-original' | 'exif-create' | 'mtime';

/** Metadata of one image. Every field may be null (unknown, or rejected as invalid). */
export interface ImageMetadata {
  /**
   * Date taken, milliseconds since the epoch (an instant). An EXIF date with its offset is exact;
   * one without an offset is read in this machine's time zone; a file date is its mtime.
   */
  takenAt: number | null;
  /**
   * The same moment as the wall-clock time shown on the camera, as milliseconds since the epoch
   * *read as UTC* (`new Date(takenLocal).toISOString()` gives the local date and time). Date
   * filters without a time zone compare against it.
   */
  takenLocal: number | null;
  /** UTC offset of the date taken, minutes east of UTC, when the file states it. */
  takenOffset: number | null;
  dateSource: DateSource | null;
  /** Camera maker and model as written by the camera (trimmed). */
  make: string | null;
  model: string | null;
  /** Lens model (or maker + model). */
  lens: string | null;
  /** WGS-84 degrees; both set or both null. */
  latitude: number | null;
  longitude: number | null;
  /** EXIF orientation 1..8. */
  orientation: number | null;
}

/** Metadata with every field unknown. */
export const EMPTY_METADATA: Readonly<ImageMetadata> = Object.freeze({
  takenAt: null,
  takenLocal: null,
  takenOffset: null,
  dateSource: null,
  make: null,
  model: null,
  lens: null,
  latitude: null,
  longitude: null,
  orientation: null,
});

const PICK = [
  'Make',
  'Model',
  'LensModel',
  'LensMake',
  'Orientation',
  'DateTimeOriginal',
  'OffsetTimeOriginal',
  'CreateDate',
  'OffsetTimeDigitized',
  'OffsetTime',
  'GPSLatitude',
  'GPSLatitudeRef',
  'GPSLongitude',
  'GPSLongitudeRef',
];

/** Longest text field kept (characters). */
const MAX_TEXT = 128;

/**
 * Reads metadata from the first bytes of an image (`head`, ideally ≥ {@link METADATA_HEAD_BYTES})
 * and fills the date from `mtimeMs` when the file states none. Never throws.
 */
export async function readMetadata(head: Uint8Array, mtimeMs: number): Promise<ImageMetadata> {
  let tags: Record<string, unknown> = {};
  try {
    const parsed = (await exifr.parse(head, {
      pick: PICK,
      tiff: true,
      exif: true,
      gps: true,
      ifd1: false,
      interop: false,
      xmp: false,
      icc: false,
      iptc: false,
      jfif: false,
      ihdr: false,
      makerNote: false,
      userComment: false,
      translateValues: false,
      reviveValues: false,
      mergeOutput: true,
      silentErrors: true,
    } as Parameters<typeof exifr.parse>[1])) as Record<string, unknown> | undefined;
    if (parsed && typeof parsed === 'object') tags = parsed;
  } catch {
    // Unparseable header: every EXIF field stays unknown.
  }
  return metadataFromTags(tags, mtimeMs);
}

/** Validates exifr's raw tags field by field. Exported for tests. */
export function metadataFromTags(tags: Record<string, unknown>, mtimeMs: number): ImageMetadata {
  const out: ImageMetadata = { ...EMPTY_METADATA };
  const field = <T>(fn: () => T | null): T | null => {
    try {
      return fn();
    } catch {
      return null;
    }
  };
  out.make = field(() => text(tags.Make));
  out.model = field(() => text(tags.Model));
  out.lens = field(() => {
    const model = text(tags.LensModel);
    const make = text(tags.LensMake);
    if (model && make && !model.toLowerCase().startsWith(make.toLowerCase())) return `${make} ${model}`.slice(0, MAX_TEXT);
    return model;
  });
  out.orientation = field(() => {
    const o = tags.Orientation;
    return typeof o === 'number' && Number.isInteger(o) && o >= 1 && o <= 8 ? o : null;
  });
  const gps = field(() => {
    const lat = gpsDegrees(tags.GPSLatitude, tags.GPSLatitudeRef, 'N', 'S', 90);
    const lon = gpsDegrees(tags.GPSLongitude, tags.GPSLongitudeRef, 'E', 'W', 180);
    // 0,0 is what many devices write when they had no fix.
    if (lat === null || lon === null || (lat === 0 && lon === 0)) return null;
    return { lat, lon };
  });
  if (gps) {
    out.latitude = gps.lat;
    out.longitude = gps.lon;
  }
  const date =
    field(() => exifDate(tags.DateTimeOriginal, tags.OffsetTimeOriginal ?? tags.OffsetTime, 'exif-original')) ??
    field(() => exifDate(tags.CreateDate, tags.OffsetTimeDigitized ?? tags.OffsetTime, 'exif-create'));
  if (date) Object.assign(out, date);
  else if (Number.isFinite(mtimeMs) && mtimeMs > 0) {
    out.takenAt = Math.round(mtimeMs);
    out.takenLocal = Math.round(mtimeMs) - new Date(mtimeMs).getTimezoneOffset() * 60_000;
    out.dateSource = 'mtime';
  }
  return out;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** A printable, trimmed string of at most MAX_TEXT characters, or null. */
function text(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const s = v.replace(CONTROL, '').replace(/\s+/g, ' ').trim();
  if (s === '' || /^(unknown|none|-+)$/i.test(s)) return null;
  return s.slice(0, MAX_TEXT);
}

function gpsDegrees(v: unknown, ref: unknown, pos: string, neg: string, max: number): number | null {
  let deg: number;
  if (typeof v === 'number') deg = v;
  else if (Array.isArray(v) && v.length >= 1 && v.length <= 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0)) {
    const [d = 0, m = 0, s = 0] = v as number[];
    if (m >= 60 || s >= 60) return null;
    deg = d + m / 60 + s / 3600;
  } else return null;
  if (!Number.isFinite(deg) || deg < 0 || deg > max) return null;
  const r = typeof ref === 'string' ? ref.trim().toUpperCase() : '';
  if (r === neg) deg = -deg;
  else if (r !== pos && r !== '') return null;
  return Math.round(deg * 1e7) / 1e7;
}

const EXIF_DATE = /^(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}:?\d{2})?$/;

/** Parses an EXIF date string (`YYYY:MM:DD HH:MM:SS`) with its optional offset tag (`+02:00`). */
function exifDate(v: unknown, offsetTag: unknown, source: DateSource): Pick<ImageMetadata, 'takenAt' | 'takenLocal' | 'takenOffset' | 'dateSource'> | null {
  if (typeof v !== 'string') return null;
  const m = EXIF_DATE.exec(v.replace(/\0+$/, '').trim());
  if (!m) return null;
  const [year, month, day, hour, minute, second = 0] = m.slice(1, 7).map((x) => Number(x ?? 0)) as number[];
  const ms = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
  if (year! < 1800 || year! > 2200 || month! < 1 || month! > 12 || day! < 1 || hour! > 23 || minute! > 59 || second! > 60) return null;
  const local = Date.UTC(year!, month! - 1, day!, hour!, minute!, Math.min(second!, 59), ms);
  const check = new Date(local);
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month! - 1) return null; // 2023:02:30
  const offset = parseOffset(m[8]) ?? parseOffset(offsetTag);
  if (offset !== null) return { takenAt: local - offset * 60_000, takenLocal: local, takenOffset: offset, dateSource: source };
  // No offset: the wall-clock time is read in this machine's time zone.
  const asLocal = new Date(year!, month! - 1, day!, hour!, minute!, Math.min(second!, 59), ms).getTime();
  return { takenAt: asLocal, takenLocal: local, takenOffset: null, dateSource: source };
}

/** `+02:00` / `-0530` / `Z` → minutes east of UTC, or null. */
function parseOffset(v: unknown): number | null {
  if (typeof v !== 'string') return null;
  const s = v.replace(/\0+$/, '').trim();
  if (s === 'Z') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(s);
  if (!m) return null;
  const h = Number(m[2]);
  const min = Number(m[3]);
  if (h > 14 || min > 59) return null;
  return (m[1] === '-' ? -1 : 1) * (h * 60 + min);
}

/** A camera's display name: the model when it already names the maker (`Canon EOS R5`), else `make model`. */
export function cameraName(make: string | null, model: string | null): string | null {
  if (!make && !model) return null;
  if (!make) return model;
  if (!model) return make;
  const firstWord = make.split(/\s/)[0]!.toLowerCase();
  return model.toLowerCase().startsWith(firstWord) ? model : `${make} ${model}`;
}
