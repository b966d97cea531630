import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CatalogDamagedError, PixsearchError } from '@pixsearch/core';
import { CATALOG_SCHEMA_VERSION, SearchEngine, SqliteCatalog } from '@pixsearch/core/engine';
import { describeCatalogConformance } from '@pixsearch/core/testing';
import { removeDir, tempDir } from './engine-helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(async () => {
  await removeDir(dir);
});

const DIM = 4;

function fresh(name: string): SqliteCatalog {
  const c = SqliteCatalog.open(path.join(dir, `${name}.db`));
  c.updateSettings({ modelId: 'm', modelSource: 'm', dimension: DIM });
  return c;
}

// What the engine relies on from any catalog (the same suite PostgresCatalog runs).
describeCatalogConformance({
  name: 'sqlite',
  create: (label) => SqliteCatalog.open(path.join(dir, `conformance-${label}.db`)),
  openReader: (label) => SqliteCatalog.open(path.join(dir, `conformance-${label}.db`), { readOnly: true }),
});

// SQLite specifics: the file, its schema version, WAL, damage and atomic creation.

describe('SqliteCatalog', () => {
  test('creates the schema at the current version, in WAL mode, with a catalog id', () => {
    const c = fresh('schema');
    c.close();
    const db = new Database(path.join(dir, 'schema.db'), { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(CATALOG_SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    const again = SqliteCatalog.open(path.join(dir, 'schema.db'));
    expect(again.marker().catalogId).toMatch(/^[0-9a-f-]{36}$/);
    again.close();
  });

  test('read-only openers; a newer schema is refused with a typed error', () => {
    const file = path.join(dir, 'ro.db');
    const w = fresh('ro');
    const r = SqliteCatalog.open(file, { readOnly: true });
    expect(r.readOnly).toBe(true);
    expect(() => r.addRoot('/x')).toThrow();
    w.addRoot('/seen');
    expect(r.roots().map((x) => x.path)).toEqual(['/seen']);
    r.close();
    w.close();
    expect(() => SqliteCatalog.open(path.join(dir, 'missing.db'), { readOnly: true })).toThrow(PixsearchError);
    const db = new Database(file);
    db.pragma(`user_version = ${CATALOG_SCHEMA_VERSION + 1}`);
    db.close();
    const err = (() => {
      try {
        SqliteCatalog.open(file);
      } catch (e) {
        return e as PixsearchError;
      }
    })();
    expect(err?.code).toBe('CATALOG_VERSION');
  });

  test('an empty (0-byte) or damaged catalog is refused with recovery advice, never replaced', async () => {
    const check = (err: unknown, problem: RegExp): void => {
      expect(err).toBeInstanceOf(CatalogDamagedError);
      const e = err as CatalogDamagedError;
      expect(e.code).toBe('CATALOG_DAMAGED');
      expect(e.message).toMatch(problem);
      expect(e.message).not.toMatch(/schema version/);
      expect(e.hint).toMatch(/restore it from a backup.*move it aside.*index your folders again/);
    };
    const empty = path.join(dir, 'empty.db');
    writeFileSync(empty, '');
    for (const readOnly of [false, true]) {
      let err: unknown;
      try {
        SqliteCatalog.open(empty, { readOnly });
      } catch (e) {
        err = e;
      }
      check(err, /is empty \(0 bytes\)/);
    }
    expect(statSync(empty).size).toBe(0);

    const garbage = path.join(dir, 'garbage.db');
    writeFileSync(garbage, Buffer.alloc(8192, 0x41));
    for (const readOnly of [false, true]) {
      let err: unknown;
      try {
        SqliteCatalog.open(garbage, { readOnly });
      } catch (e) {
        err = e;
      }
      check(err, /not a pixsearch catalog|not a valid SQLite database/);
    }
    expect(statSync(garbage).size).toBe(8192);

    // Through the engine, as the index command opens it: the data directory is left as it was.
    const dataDir = path.join(dir, 'engine-empty');
    await mkdir(dataDir, { recursive: true });
    writeFileSync(path.join(dataDir, 'catalog.db'), '');
    await expect(SearchEngine.open({ dataDir, roots: [dir] })).rejects.toBeInstanceOf(CatalogDamagedError);
    await expect(SearchEngine.open({ dataDir, readOnly: true })).rejects.toBeInstanceOf(CatalogDamagedError);
    expect(statSync(path.join(dataDir, 'catalog.db')).size).toBe(0);
  });

  test('a new catalog appears whole (built aside, then renamed): no temporary file is left', () => {
    const file = path.join(dir, 'atomic-new.db');
    // A leftover from a crash during an earlier creation is replaced.
    writeFileSync(`${file}.creating`, 'half a database');
    const c = SqliteCatalog.open(file);
    c.close();
    expect(existsSync(`${file}.creating`)).toBe(false);
    expect(statSync(file).size).toBeGreaterThan(0);
    expect(readdirSync(dir).filter((f) => f.startsWith('atomic-new.db.creating'))).toEqual([]);
    const r = SqliteCatalog.open(file, { readOnly: true });
    expect(r.marker().catalogId).toMatch(/^[0-9a-f-]{36}$/);
    r.close();
  });
});

