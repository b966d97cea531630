// A synthetic photo library written straight into a SQLite catalog, for benchmarks that need a
// large library without embedding (or even having) its images.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { CatalogOp } from '../engine/catalog.js';

/** Rows per catalog transaction. */
const PAGE_ROWS = 5000;

/** Options for {@link writeSyntheticLibrary}. */
export interface SyntheticLibraryOptions {
  /** The library's data directory (created; the catalog goes in it, the root folder `photos/` below it). */
  dataDir: string;
  /** Row-major `n × dimension` stored embeddings, L2-normalised, one image each (catalog ids 1..n in row order). */
  vectors: Float32Array;
  dimension: number;
  /** The model the catalog says the embeddings come from (the engine checks its embedder against it). */
  modelId: string;
  /** Where that model is loaded from (default: `modelId`). */
  modelSource?: string;
  backend: string;
  /** Content hash of row `i`: equal hashes make exact copies. Default `synthetic-<i>` (all distinct). */
  hash?: (row: number) => string;
}

/**
 * Writes the catalog of a synthetic library: one indexed row per vector, the vector as its stored
 * embedding, photo-like stat fields (`0000/IMG_0000000.jpg`, 2–3 MB, 4032 × 3024 JPEG, one second
 * apart) and no image files. Opening a `SearchEngine` on `dataDir` then builds the index from the
 * stored embeddings as it does after a sync. Loads better-sqlite3 when called. Returns the
 * (empty) root folder.
 */
export async function writeSyntheticLibrary(o: SyntheticLibraryOptions): Promise<string> {
  const { CATALOG_FILE, SqliteCatalog } = await import('../engine/index.js');
  const d = o.dimension;
  const n = o.vectors.length / d;
  if (!Number.isInteger(n)) throw new RangeError(`${o.vectors.length} floats are not rows of ${d}`);
  const hash = o.hash ?? ((i: number) => `synthetic-${i}`);
  const photos = path.join(o.dataDir, 'photos');
  mkdirSync(photos, { recursive: true });
  const catalog = SqliteCatalog.open(path.join(o.dataDir, CATALOG_FILE));
  try {
    catalog.updateSettings({ modelId: o.modelId, modelSource: o.modelSource ?? o.modelId, dimension: d, backend: o.backend, backendParams: {} });
    const rootId = catalog.addRoot(photos);
    for (let start = 0; start < n; start += PAGE_ROWS) {
      const ops: CatalogOp[] = [];
      for (let i = start; i < Math.min(n, start + PAGE_ROWS); i++) {
        ops.push({
          op: 'insert',
          row: {
            rootId,
            relPath: `${String(Math.floor(i / 1000)).padStart(4, '0')}/IMG_${String(i).padStart(7, '0')}.jpg`,
            size: 2_000_000 + (i % 997) * 1000,
            mtimeMs: 1.7e12 + i * 1000,
            hash: hash(i),
            width: 4032,
            height: 3024,
            format: 'jpeg',
            status: 'indexed',
            reason: null,
            message: null,
            embedding: o.vectors.subarray(i * d, (i + 1) * d),
          },
        });
      }
      catalog.write(ops);
    }
    catalog.updateSettings({ lastSync: new Date().toISOString() });
  } finally {
    catalog.close();
  }
  return photos;
}
