// The images table as both SQL catalogs store it (SQLite here, PostgreSQL in @pixsearch/index-pgvector):
// the same columns, read into the same CatalogImage, and the same rule for what a row may hold.
import { PixsearchError } from '../errors.js';
import type { CatalogImage, ImageRowData, ImageStatus } from './catalog.js';
import type { DateSource } from './metadata.js';

/** The columns of an image row, as `SELECT ${IMAGE_COLUMNS} FROM images i` lists them. */
export const IMAGE_COLUMNS =
  'i.id, i.root_id, i.rel_path, i.size, i.mtime_ms, i.hash, i.width, i.height, i.format, i.status, i.reason, i.message, ' +
  'i.meta_version, i.taken_at, i.taken_local, i.taken_offset, i.date_source, i.make, i.model, i.camera, i.lens, i.latitude, i.longitude, i.orientation';

/** One row of the images table (snake_case columns). */
export interface ImageRow {
  id: number;
  root_id: number;
  rel_path: string;
  size: number;
  mtime_ms: number;
  hash: string | null;
  width: number;
  height: number;
  format: string;
  status: ImageStatus;
  reason: string | null;
  message: string | null;
  meta_version: number;
  taken_at: number | null;
  taken_local: number | null;
  taken_offset: number | null;
  date_source: DateSource | null;
  make: string | null;
  model: string | null;
  camera: string | null;
  lens: string | null;
  latitude: number | null;
  longitude: number | null;
  orientation: number | null;
}

/** The catalog image of a row; `meta` is null until the metadata reader has seen it (`meta_version` 0). */
export const toImage = (r: ImageRow): CatalogImage => ({
  id: r.id,
  rootId: r.root_id,
  relPath: r.rel_path,
  size: r.size,
  mtimeMs: r.mtime_ms,
  hash: r.hash,
  width: r.width,
  height: r.height,
  format: r.format,
  status: r.status,
  reason: r.reason,
  message: r.message,
  meta:
    r.meta_version === 0
      ? null
      : {
          takenAt: r.taken_at,
          takenLocal: r.taken_local,
          takenOffset: r.taken_offset,
          dateSource: r.date_source,
          make: r.make,
          model: r.model,
          lens: r.lens,
          latitude: r.latitude,
          longitude: r.longitude,
          orientation: r.orientation,
        },
  camera: r.camera,
});

/** An embedding must be present exactly for indexed rows. */
export function checkRow(row: ImageRowData): void {
  if ((row.status === 'indexed') !== (row.embedding !== null)) {
    throw new PixsearchError('CATALOG_STATE', `${row.relPath}: an embedding is stored exactly for indexed images (status ${row.status})`);
  }
}
