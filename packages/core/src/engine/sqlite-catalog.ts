import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CatalogDamagedError, diskFullError, PixsearchError } from '../errors.js';
import { checkRow, IMAGE_COLUMNS, toImage, type ImageRow } from './catalog-rows.js';
import type {
  Catalog,
  CatalogFacets,
  CatalogFilter,
  CatalogImage,
  CatalogMarker,
  CatalogOp,
  CatalogRoot,
  CatalogSettings,
  ImageRowData,
  ImageStatus,
  RemoteIndexRecord,
} from './catalog.js';
import { facetStatements, SQLITE_FACET_DIALECT, toFacets } from './catalog-facets.js';
import { cameraName, type ImageMetadata } from './metadata.js';

/**
 * Schema migrations: entry `i` upgrades `user_version` i → i+1, inside one transaction.
 * Append new entries; never edit shipped ones.
 */
const MIGRATIONS: ((db: Database.Database) => void)[] = [
  (db) => {
    db.exec(`
      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE roots (
        id       INTEGER PRIMARY KEY AUTOINCREMENT,
        path     TEXT NOT NULL UNIQUE,
        added_at TEXT NOT NULL
      );
      -- AUTOINCREMENT: ids are never reused, so an id names one image forever (thumbnail caches, links).
      CREATE TABLE images (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        root_id   INTEGER NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
        rel_path  TEXT NOT NULL,
        size      INTEGER NOT NULL,
        mtime_ms  REAL NOT NULL,
        hash      TEXT,
        width     INTEGER NOT NULL DEFAULT 0,
        height    INTEGER NOT NULL DEFAULT 0,
        format    TEXT NOT NULL DEFAULT '',
        status    TEXT NOT NULL CHECK (status IN ('indexed', 'skipped', 'failed')),
        reason    TEXT,
        message   TEXT,
        -- Catalog generation of the last change to this row's (status, embedding): lets a saved
        -- index catch up with the changes made after it was saved.
        gen       INTEGER NOT NULL DEFAULT 0,
        UNIQUE (root_id, rel_path)
      );
      -- Sorted by (root_id, id): a sync reads a root's rows in id order without sorting.
      CREATE INDEX images_root ON images(root_id);
      CREATE INDEX images_hash ON images(hash) WHERE hash IS NOT NULL;
      CREATE INDEX images_status ON images(status);
      CREATE INDEX images_gen ON images(gen);
      -- One embedding per indexed image (and none for other rows), written in the same transaction
      -- as its row. Kept apart so that scanning the images table (every sync) stays cheap.
      CREATE TABLE embeddings (
        id     INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
        -- Float32 little-endian, dimension × 4 bytes.
        vector BLOB NOT NULL
      );
      -- Ids deleted at a generation, kept until every saved index has seen them.
      CREATE TABLE removed (
        id  INTEGER PRIMARY KEY,
        gen INTEGER NOT NULL
      );
    `);
    const put = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
    put.run('catalogId', JSON.stringify(randomUUID()));
    put.run('generation', '0');
    put.run('embeddingFormat', JSON.stringify('f32le'));
  },
  // 2: photo metadata (date taken, camera, lens, GPS, orientation). `meta_version` 0 means not read
  // yet: the next sync reads it from the file's first bytes (no re-embedding).
  (db) => {
    db.exec(`
      ALTER TABLE images ADD COLUMN meta_version INTEGER NOT NULL DEFAULT 0;
      -- Date taken: the instant (ms since the epoch) and the camera's wall-clock time (ms, read as UTC).
      ALTER TABLE images ADD COLUMN taken_at REAL;
      ALTER TABLE images ADD COLUMN taken_local REAL;
      -- Minutes east of UTC, when the file states it.
      ALTER TABLE images ADD COLUMN taken_offset INTEGER;
      ALTER TABLE images ADD COLUMN date_source TEXT;
      ALTER TABLE images ADD COLUMN make TEXT;
      ALTER TABLE images ADD COLUMN model TEXT;
      -- Display name derived from make and model (what the camera filter matches).
      ALTER TABLE images ADD COLUMN camera TEXT;
      ALTER TABLE images ADD COLUMN lens TEXT;
      ALTER TABLE images ADD COLUMN latitude REAL;
      ALTER TABLE images ADD COLUMN longitude REAL;
      ALTER TABLE images ADD COLUMN orientation INTEGER;
      CREATE INDEX images_taken ON images(taken_at, id) WHERE status = 'indexed';
      CREATE INDEX images_camera ON images(camera) WHERE camera IS NOT NULL;
    `);
  },
];

/** Schema version this code writes. */
export const CATALOG_SCHEMA_VERSION = MIGRATIONS.length;

/** Version of the metadata reader; rows below it are read again by the next sync. */
export const METADATA_VERSION = 1;


/** Column values of a row's metadata (all null and version 0 when it was not read). */
function metaParams(meta: ImageMetadata | null | undefined): Record<string, unknown> {
  return {
    metaVersion: meta ? METADATA_VERSION : 0,
    takenAt: meta?.takenAt ?? null,
    takenLocal: meta?.takenLocal ?? null,
    takenOffset: meta?.takenOffset ?? null,
    dateSource: meta?.dateSource ?? null,
    make: meta?.make ?? null,
    model: meta?.model ?? null,
    camera: meta ? cameraName(meta.make, meta.model) : null,
    lens: meta?.lens ?? null,
    latitude: meta?.latitude ?? null,
    longitude: meta?.longitude ?? null,
    orientation: meta?.orientation ?? null,
  };
}

const META_SET =
  'meta_version = @metaVersion, taken_at = @takenAt, taken_local = @takenLocal, taken_offset = @takenOffset, date_source = @dateSource, ' +
  'make = @make, model = @model, camera = @camera, lens = @lens, latitude = @latitude, longitude = @longitude, orientation = @orientation';

/**
 * SQL condition (over `images i JOIN roots r`) and its named parameters for a filter; always
 * restricted to indexed rows.
 */
export function filterSql(f: CatalogFilter | undefined): { where: string; params: Record<string, unknown> } {
  const parts = ["i.status = 'indexed'"];
  const params: Record<string, unknown> = {};
  if (!f) return { where: parts[0]!, params };
  if (f.pathPrefix !== undefined) {
    parts.push(prefixCondition(f.pathPrefix));
    params.prefix = f.pathPrefix;
  }
  if (f.takenFrom) {
    parts.push(`${f.takenFrom.local ? 'i.taken_local' : 'i.taken_at'} >= @takenFrom`);
    params.takenFrom = f.takenFrom.ms;
  }
  if (f.takenTo) {
    parts.push(`${f.takenTo.local ? 'i.taken_local' : 'i.taken_at'} <= @takenTo`);
    params.takenTo = f.takenTo.ms;
  }
  if (f.cameras && f.cameras.length > 0) {
    parts.push(`(${f.cameras.map((c, n) => {
      params[`camera${n}`] = c;
      return `instr(lower(i.camera), @camera${n}) > 0`;
    }).join(' OR ')})`);
  }
  if (f.formats && f.formats.length > 0) {
    parts.push(`i.format IN (${f.formats.map((x, n) => {
      params[`format${n}`] = x;
      return `@format${n}`;
    }).join(', ')})`);
  }
  if (f.minWidth !== undefined) {
    parts.push('i.width >= @minWidth');
    params.minWidth = f.minWidth;
  }
  if (f.minHeight !== undefined) {
    parts.push('i.height >= @minHeight');
    params.minHeight = f.minHeight;
  }
  if (f.hasLocation !== undefined) parts.push(f.hasLocation ? 'i.latitude IS NOT NULL AND i.longitude IS NOT NULL' : '(i.latitude IS NULL OR i.longitude IS NULL)');
  return { where: parts.join(' AND '), params };
}

/** ORDER BY clause of date order (rows without a date last). */
const dateOrder = (order: 'desc' | 'asc'): string =>
  order === 'desc' ? 'i.taken_at IS NULL, i.taken_at DESC, i.id DESC' : 'i.taken_at IS NULL, i.taken_at ASC, i.id ASC';


/** SQL condition matching rows whose path starts with `?` (relative, or absolute when it starts with `/`). */
function prefixCondition(prefix: string): string {
  return prefix.startsWith('/')
    ? `substr(CASE WHEN r.path = '/' THEN '/' ELSE r.path || '/' END || i.rel_path, 1, length(@prefix)) = @prefix`
    : 'substr(i.rel_path, 1, length(@prefix)) = @prefix';
}

/** Sets the connection's modes and applies the migrations from `version` on, each in one transaction. */
function migrate(db: Database.Database, version: number): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      MIGRATIONS[v]!(db);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}

/** SQLite's words for a file that is not (or no longer) a database. */
function isDamage(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || (typeof code === 'string' && code.startsWith('SQLITE_CORRUPT_'));
}

/**
 * Refuses a catalog file of 0 bytes (a disk that filled up, a copy cut short, `> catalog.db`):
 * SQLite would take it for a new database. Not when a write-ahead log holds the content yet.
 */
function checkNotEmpty(file: string): void {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return; // absent: created (writer) or reported (reader) by the caller
  }
  if (size > 0) return;
  let wal = 0;
  try {
    wal = statSync(`${file}-wal`).size;
  } catch {
    // no log
  }
  if (wal === 0) throw new CatalogDamagedError(file, 'it is empty (0 bytes)');
}

/** Creates a new, migrated catalog at `file` atomically: built under a temporary name, then renamed. */
function createCatalogFile(file: string): void {
  const tmp = `${file}.creating`;
  for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`]) rmSync(f, { force: true });
  const db = new Database(tmp);
  try {
    migrate(db, 0);
    // Fold the log into the file, so the rename moves everything.
    db.pragma('journal_mode = DELETE');
  } finally {
    db.close();
  }
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  try {
    const dir = openSync(path.dirname(file), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    // directory fsync is best effort
  }
}

/**
 * The catalog in one SQLite file (better-sqlite3, WAL). Writers open it read-write and migrate
 * the schema; readers open it read-only (`readOnly: true`) and see committed snapshots while a
 * writer works. Every `write()` is one transaction, durable on return (`synchronous=FULL`).
 */
export class SqliteCatalog implements Catalog {
  readonly location: string;
  readonly readOnly: boolean;
  private readonly db: Database.Database;
  private readonly dimensionCache = { value: null as number | null };
  private readonly stmts: ReturnType<SqliteCatalog['prepare']>;

  private constructor(file: string, db: Database.Database, readOnly: boolean) {
    this.location = file;
    this.db = db;
    this.readOnly = readOnly;
    this.stmts = this.prepare();
  }

  /**
   * Opens (creating and migrating when writable) the catalog at `file`. The caller must `close()` it.
   * A new catalog is built beside `file` and renamed into place, so `file` is never an empty or
   * half-made database; an empty or damaged `file` is refused with {@link CatalogDamagedError}
   * (never replaced by a new, empty library).
   */
  static open(file: string, options: { readOnly?: boolean } = {}): SqliteCatalog {
    const readOnly = options.readOnly ?? false;
    checkNotEmpty(file);
    if (!readOnly && !existsSync(file)) {
      try {
        createCatalogFile(file);
      } catch (err) {
        rmSync(`${file}.creating`, { force: true });
        throw diskFullError(err, path.dirname(file)) ?? err;
      }
    }
    let db: Database.Database;
    try {
      db = new Database(file, { readonly: readOnly, fileMustExist: true, timeout: 10_000 });
    } catch (cause) {
      if (isDamage(cause)) throw new CatalogDamagedError(file, 'it is not a pixsearch catalog (not an SQLite database)', { cause });
      throw new PixsearchError('CATALOG_OPEN', `cannot open the catalog ${file}: ${(cause as Error).message}`, { cause });
    }
    try {
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > MIGRATIONS.length) {
        throw new PixsearchError('CATALOG_VERSION', `the catalog ${file} has schema version ${version}, newer than this pixsearch understands (${MIGRATIONS.length})`, {
          hint: 'upgrade pixsearch, or use another --data-dir',
        });
      }
      if (readOnly) {
        if (version < MIGRATIONS.length) {
          throw new PixsearchError('CATALOG_VERSION', `the catalog ${file} has schema version ${version} and must be upgraded to ${MIGRATIONS.length} by a writer`, {
            hint: 'open the library once for writing (e.g. pixsearch index)',
          });
        }
      } else {
        migrate(db, version);
      }
      return new SqliteCatalog(file, db, readOnly);
    } catch (err) {
      db.close();
      if (err instanceof PixsearchError) throw err;
      if (isDamage(err)) throw new CatalogDamagedError(file, 'it is not a valid SQLite database (corrupt or overwritten)', { cause: err });
      throw new PixsearchError('CATALOG_OPEN', `cannot open the catalog ${file}: ${(err as Error).message}`, { cause: err });
    }
  }

  private prepare() {
    const db = this.db;
    return {
      meta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
      roots: db.prepare<[], CatalogRoot>('SELECT id, path FROM roots ORDER BY id'),
      fileStates: db.prepare<[number, number, number], ImageRow>(
        `SELECT ${IMAGE_COLUMNS} FROM images i WHERE i.root_id = ? AND i.id > ? ORDER BY i.id LIMIT ?`,
      ),
      image: db.prepare<[number], ImageRow>(`SELECT ${IMAGE_COLUMNS} FROM images i WHERE i.id = ?`),
      images: db.prepare<[string], ImageRow>(`SELECT ${IMAGE_COLUMNS} FROM images i WHERE i.id IN (SELECT value FROM json_each(?))`),
      embedding: db.prepare<[number], { vector: Buffer }>('SELECT vector FROM embeddings WHERE id = ?'),
      byHash: db.prepare<[string], ImageRow & { vector: Buffer }>(
        `SELECT ${IMAGE_COLUMNS}, e.vector FROM images i JOIN embeddings e ON e.id = i.id WHERE i.hash = ? AND i.status = 'indexed' LIMIT 1`,
      ),
      putVector: db.prepare('INSERT INTO embeddings (id, vector) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET vector = excluded.vector'),
      dropVector: db.prepare('DELETE FROM embeddings WHERE id = ?'),
      marker: db.prepare<[], { count: number; idSum: number }>(
        "SELECT count(*) AS count, coalesce(sum(id), 0) AS idSum FROM images WHERE status = 'indexed'",
      ),
      counts: db.prepare<[], { status: ImageStatus; n: number }>('SELECT status, count(*) AS n FROM images GROUP BY status'),
      problems: db.prepare<[number], ImageRow>(
        `SELECT ${IMAGE_COLUMNS} FROM images i WHERE i.status != 'indexed' ORDER BY i.root_id, i.rel_path LIMIT ?`,
      ),
      insert: db.prepare(
        `INSERT INTO images (root_id, rel_path, size, mtime_ms, hash, width, height, format, status, reason, message, gen,
           meta_version, taken_at, taken_local, taken_offset, date_source, make, model, camera, lens, latitude, longitude, orientation)
         VALUES (@rootId, @relPath, @size, @mtimeMs, @hash, @width, @height, @format, @status, @reason, @message, @gen,
           @metaVersion, @takenAt, @takenLocal, @takenOffset, @dateSource, @make, @model, @camera, @lens, @latitude, @longitude, @orientation)`,
      ),
      replace: db.prepare(
        `UPDATE images SET root_id = @rootId, rel_path = @relPath, size = @size, mtime_ms = @mtimeMs, hash = @hash, width = @width,
         height = @height, format = @format, status = @status, reason = @reason, message = @message, gen = @gen, ${META_SET} WHERE id = @id`,
      ),
      setMeta: db.prepare(`UPDATE images SET ${META_SET} WHERE id = @id`),
      relocate: db.prepare('UPDATE images SET root_id = @rootId, rel_path = @relPath, size = @size, mtime_ms = @mtimeMs WHERE id = @id'),
      delete: db.prepare('DELETE FROM images WHERE id = ?'),
      tombstone: db.prepare('INSERT INTO removed (id, gen) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET gen = excluded.gen'),
      bump: db.prepare<[], { value: string }>("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation' RETURNING value"),
      putMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    };
  }

  private getMeta<T>(key: string, fallback: T): T {
    const row = this.stmts.meta.get(key);
    return row === undefined ? fallback : (JSON.parse(row.value) as T);
  }

  settings(): CatalogSettings {
    return {
      modelId: this.getMeta<string | null>('modelId', null),
      modelSource: this.getMeta<string | null>('modelSource', null),
      dimension: this.getMeta<number | null>('dimension', null),
      backend: this.getMeta<string | null>('backend', null),
      backendParams: this.getMeta<Record<string, number | string>>('backendParams', {}),
      lastSync: this.getMeta<string | null>('lastSync', null),
      remoteIndex: this.getMeta<RemoteIndexRecord | null>('remoteIndex', null),
    };
  }

  updateSettings(patch: Partial<CatalogSettings>): void {
    this.db.transaction(() => {
      for (const [key, value] of Object.entries(patch)) {
        if (value !== undefined) this.stmts.putMeta.run(key, JSON.stringify(value));
      }
    })();
    this.dimensionCache.value = null;
  }

  roots(): CatalogRoot[] {
    return this.stmts.roots.all();
  }

  addRoot(path: string): number {
    this.db.prepare('INSERT INTO roots (path, added_at) VALUES (?, ?) ON CONFLICT (path) DO NOTHING').run(path, new Date().toISOString());
    return (this.db.prepare('SELECT id FROM roots WHERE path = ?').get(path) as { id: number }).id;
  }

  mergeRoot(fromId: number, toId: number, prefix: string): number[] {
    return this.db.transaction(() => {
      const clashes = this.db
        .prepare<[number, string, number], { id: number; status: ImageStatus }>(
          'SELECT id, status FROM images WHERE root_id = ? AND rel_path IN (SELECT ? || rel_path FROM images WHERE root_id = ?)',
        )
        .all(toId, prefix, fromId);
      if (clashes.length > 0) {
        const gen = this.nextGeneration();
        for (const c of clashes) this.deleteRow(c.id, gen);
      }
      this.db.prepare('UPDATE images SET root_id = ?, rel_path = ? || rel_path WHERE root_id = ?').run(toId, prefix, fromId);
      this.db.prepare('DELETE FROM roots WHERE id = ?').run(fromId);
      return clashes.filter((c) => c.status === 'indexed').map((c) => c.id);
    })();
  }

  removeRoot(id: number): number[] {
    return this.db.transaction(() => {
      const rows = this.db.prepare<[number], { id: number; status: ImageStatus }>('SELECT id, status FROM images WHERE root_id = ?').all(id);
      const gen = this.nextGeneration();
      for (const r of rows) this.deleteRow(r.id, gen);
      this.db.prepare('DELETE FROM roots WHERE id = ?').run(id);
      return rows.filter((r) => r.status === 'indexed').map((r) => r.id);
    })();
  }

  forEachFileState(rootId: number, fn: (rows: CatalogImage[]) => void): void {
    const page = 10_000;
    let after = 0;
    for (;;) {
      const rows = this.stmts.fileStates.all(rootId, after, page);
      if (rows.length === 0) return;
      fn(rows.map(toImage));
      after = rows[rows.length - 1]!.id;
      if (rows.length < page) return;
    }
  }

  /** Increments the generation (inside the caller's transaction) and returns the new value. */
  private nextGeneration(): number {
    return Number(this.stmts.bump.get()!.value);
  }

  private deleteRow(id: number, gen: number): void {
    this.stmts.dropVector.run(id);
    this.stmts.delete.run(id);
    this.stmts.tombstone.run(id, gen);
  }

  write(ops: readonly CatalogOp[]): number[] {
    if (ops.length === 0) return [];
    return this.db.transaction(() => {
      const inserted: number[] = [];
      // Relocations alone leave the (id, embedding) set as it is.
      const gen = ops.some((o) => o.op !== 'relocate' && o.op !== 'metadata') ? this.nextGeneration() : 0;
      for (const o of ops) {
        switch (o.op) {
          case 'insert': {
            checkRow(o.row);
            const id = Number(this.stmts.insert.run({ ...rowParams(o.row), gen }).lastInsertRowid);
            if (o.row.embedding) this.stmts.putVector.run(id, this.toBlob(o.row.embedding));
            inserted.push(id);
            break;
          }
          case 'replace':
            checkRow(o.row);
            if (this.stmts.replace.run({ ...rowParams(o.row), id: o.id, gen }).changes !== 1) throw new PixsearchError('CATALOG_STATE', `no image ${o.id} to replace`);
            if (o.row.embedding) this.stmts.putVector.run(o.id, this.toBlob(o.row.embedding));
            else this.stmts.dropVector.run(o.id);
            break;
          case 'relocate':
            this.stmts.relocate.run({ id: o.id, rootId: o.rootId, relPath: o.relPath, size: o.size, mtimeMs: o.mtimeMs });
            break;
          case 'delete':
            this.deleteRow(o.id, gen);
            break;
          case 'metadata':
            this.stmts.setMeta.run({ ...metaParams(o.meta), id: o.id });
            break;
        }
      }
      return inserted;
    })();
  }

  removedSince(generation: number): number[] {
    return this.db
      .prepare<[number, number], { id: number }>(
        "SELECT id FROM removed WHERE gen > ? UNION SELECT id FROM images WHERE gen > ? AND status != 'indexed' ORDER BY id",
      )
      .all(generation, generation)
      .map((r) => r.id);
  }

  pruneRemoved(generation: number): void {
    this.db.prepare('DELETE FROM removed WHERE gen <= ?').run(generation);
  }

  async readSnapshot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.db.inTransaction) return fn();
    this.db.exec('BEGIN');
    try {
      return await fn();
    } finally {
      if (this.db.inTransaction) this.db.exec('COMMIT');
    }
  }

  private dimension(): number {
    if (this.dimensionCache.value === null) {
      const d = this.getMeta<number | null>('dimension', null);
      if (d === null) throw new PixsearchError('CATALOG_STATE', 'the catalog holds no model dimension yet');
      this.dimensionCache.value = d;
    }
    return this.dimensionCache.value;
  }

  /** Float32 little-endian bytes of `v`, which must have the catalog's dimension. */
  private toBlob(v: Float32Array): Buffer {
    if (v.length !== this.dimension()) throw new PixsearchError('CATALOG_STATE', `an embedding has ${v.length} components, the catalog's model ${this.dimension()}`);
    return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  }

  private decode(blob: Buffer, into?: Float32Array, row = 0): Float32Array {
    const dim = this.dimension();
    if (blob.byteLength !== dim * 4) {
      throw new PixsearchError('CATALOG_CORRUPT', `a stored embedding has ${blob.byteLength} bytes, expected ${dim * 4}`);
    }
    const out = into ?? new Float32Array(dim);
    new Uint8Array(out.buffer, out.byteOffset + row * dim * 4, dim * 4).set(blob);
    return out;
  }

  findByHash(hash: string): { image: CatalogImage; embedding: Float32Array } | undefined {
    const row = this.stmts.byHash.get(hash);
    return row === undefined ? undefined : { image: toImage(row), embedding: this.decode(row.vector) };
  }

  getImage(id: number): CatalogImage | undefined {
    const row = this.stmts.image.get(id);
    return row === undefined ? undefined : toImage(row);
  }

  getImages(ids: readonly number[]): Map<number, CatalogImage> {
    const out = new Map<number, CatalogImage>();
    if (ids.length === 0) return out;
    for (const row of this.stmts.images.all(JSON.stringify(ids))) out.set(row.id, toImage(row));
    return out;
  }

  getEmbedding(id: number): Float32Array | undefined {
    const row = this.stmts.embedding.get(id);
    return row ? this.decode(row.vector) : undefined;
  }

  *embeddingPages(
    options: { pathPrefix?: string; filter?: CatalogFilter; pageSize?: number; sinceGeneration?: number } = {},
  ): Generator<{ ids: number[]; vectors: Float32Array }> {
    const pageSize = options.pageSize ?? 4096;
    const prefix = options.pathPrefix;
    const since = options.sinceGeneration;
    const filter = options.filter ? filterSql(options.filter) : undefined;
    const where =
      (prefix === undefined ? '' : ` AND ${prefixCondition(prefix)}`) + (since === undefined ? '' : ' AND i.gen > @since') + (filter ? ` AND ${filter.where}` : '');
    const stmt = this.db.prepare<Record<string, unknown>, { id: number; vector: Buffer }>(
      where === ''
        ? 'SELECT e.id, e.vector FROM embeddings e WHERE e.id > @after ORDER BY e.id LIMIT @limit'
        : `SELECT e.id, e.vector FROM embeddings e JOIN images i ON i.id = e.id JOIN roots r ON r.id = i.root_id
           WHERE e.id > @after${where} ORDER BY e.id LIMIT @limit`,
    );
    const dim = this.dimension();
    let after = 0;
    for (;;) {
      const rows = stmt.all({
        after,
        limit: pageSize,
        ...filter?.params,
        ...(prefix === undefined ? {} : { prefix }),
        ...(since === undefined ? {} : { since }),
      });
      if (rows.length === 0) return;
      const vectors = new Float32Array(rows.length * dim);
      rows.forEach((r, i) => this.decode(r.vector, vectors, i));
      yield { ids: rows.map((r) => r.id), vectors };
      after = rows[rows.length - 1]!.id;
      if (rows.length < pageSize) return;
    }
  }

  countWithPrefix(prefix: string): number {
    const row = this.db
      .prepare<Record<string, unknown>, { n: number }>(
        `SELECT count(*) AS n FROM images i JOIN roots r ON r.id = i.root_id WHERE i.status = 'indexed' AND ${prefixCondition(prefix)}`,
      )
      .get({ prefix });
    return row?.n ?? 0;
  }

  countMatching(filter: CatalogFilter | undefined, limit?: number): number {
    const { where, params } = filterSql(filter);
    const join = filter?.pathPrefix?.startsWith('/') ? ' JOIN roots r ON r.id = i.root_id' : '';
    if (limit !== undefined) {
      return (
        this.db
          .prepare<Record<string, unknown>, { n: number }>(`SELECT count(*) AS n FROM (SELECT 1 FROM images i${join} WHERE ${where} LIMIT @pxLimit)`)
          .get({ ...params, pxLimit: Math.max(0, Math.floor(limit)) })?.n ?? 0
      );
    }
    return this.db.prepare<Record<string, unknown>, { n: number }>(`SELECT count(*) AS n FROM images i${join} WHERE ${where}`).get(params)?.n ?? 0;
  }

  matchingIds(filter: CatalogFilter | undefined): number[] {
    const { where, params } = filterSql(filter);
    const join = filter?.pathPrefix?.startsWith('/') ? ' JOIN roots r ON r.id = i.root_id' : '';
    return this.db
      .prepare<Record<string, unknown>, number>(`SELECT i.id FROM images i${join} WHERE ${where} ORDER BY i.id`)
      .pluck()
      .all(params);
  }

  browse(filter: CatalogFilter | undefined, order: 'desc' | 'asc', offset: number, limit: number): CatalogImage[] {
    const { where, params } = filterSql(filter);
    const join = filter?.pathPrefix?.startsWith('/') ? ' JOIN roots r ON r.id = i.root_id' : '';
    return this.db
      .prepare<Record<string, unknown>, ImageRow>(`SELECT ${IMAGE_COLUMNS} FROM images i${join} WHERE ${where} ORDER BY ${dateOrder(order)} LIMIT @limit OFFSET @offset`)
      .all({ ...params, limit, offset })
      .map(toImage);
  }

  orderByDate(ids: readonly number[], order: 'desc' | 'asc', offset: number, limit: number): number[] {
    if (ids.length === 0 || limit <= 0) return [];
    return this.db
      .prepare<[string, number, number], number>(
        `SELECT i.id FROM images i WHERE i.id IN (SELECT value FROM json_each(?)) ORDER BY ${dateOrder(order)} LIMIT ? OFFSET ?`,
      )
      .pluck()
      .all(JSON.stringify(ids), limit, offset);
  }

  facets(filter: CatalogFilter | undefined): CatalogFacets {
    const { where, params } = filterSql(filter);
    const sql = facetStatements(SQLITE_FACET_DIALECT, 'FROM images i JOIN roots r ON r.id = i.root_id', where);
    type Row = Record<string, unknown>;
    return this.db.transaction(() =>
      toFacets(
        this.db.prepare<Row, { total: number; min: number | null; max: number | null; located: number }>(sql.head).get(params)!,
        this.db.prepare<Row, { value: string; count: number }>(sql.cameras).all(params),
        this.db.prepare<Row, { value: string; count: number }>(sql.formats).all(params),
        this.db.prepare<Row, { month: string; count: number }>(sql.months).all(params),
        this.db.prepare<Row, { root: string; rel: string }>(sql.folders).iterate(params),
      ),
    )();
  }

  hashGroups(): number[][] {
    const rows = this.db
      .prepare<[], { ids: string }>(
        `SELECT json_group_array(id) AS ids FROM (SELECT id, hash FROM images WHERE status = 'indexed' AND hash IS NOT NULL ORDER BY id)
         GROUP BY hash HAVING count(*) > 1`,
      )
      .all();
    return rows.map((r) => JSON.parse(r.ids) as number[]).sort((a, b) => a[0]! - b[0]!);
  }

  marker(): CatalogMarker {
    return this.db.transaction(() => {
      const { count, idSum } = this.stmts.marker.get()!;
      return { catalogId: this.getMeta<string>('catalogId', ''), generation: this.getMeta<number>('generation', 0), count, idSum };
    })();
  }

  generation(): number {
    return this.getMeta<number>('generation', 0);
  }

  counts(): Record<ImageStatus, number> {
    const out: Record<ImageStatus, number> = { indexed: 0, skipped: 0, failed: 0 };
    for (const r of this.stmts.counts.all()) out[r.status] = r.n;
    return out;
  }

  problems(limit = 10_000): CatalogImage[] {
    return this.stmts.problems.all(limit).map(toImage);
  }

  resetEmbeddings(model: { modelId: string; modelSource: string | null; dimension: number }): void {
    this.db.transaction(() => {
      const gen = this.nextGeneration();
      this.db
        .prepare(
          "UPDATE images SET status = 'failed', reason = 'model-changed', message = 'waiting to be embedded with the new model', gen = ? WHERE status = 'indexed'",
        )
        .run(gen);
      this.db.exec('DELETE FROM embeddings');
      for (const [k, v] of Object.entries(model)) this.stmts.putMeta.run(k, JSON.stringify(v));
    })();
    this.dimensionCache.value = null;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function rowParams(row: ImageRowData): Record<string, unknown> {
  return {
    rootId: row.rootId,
    relPath: row.relPath,
    size: row.size,
    mtimeMs: row.mtimeMs,
    hash: row.hash,
    width: row.width,
    height: row.height,
    format: row.format,
    status: row.status,
    reason: row.reason,
    message: row.message,
    ...metaParams(row.meta),
  };
}
