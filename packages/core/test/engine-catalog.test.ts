import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CatalogDamagedError, PixsearchError } from '@pixsearch/core';
import { CATALOG_SCHEMA_VERSION, SearchEngine, SqliteCatalog, type ImageRowData } from '@pixsearch/core/engine';
import { removeDir, tempDir } from './engine-helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(async () => {
  await removeDir(dir);
});

const DIM = 4;
const vec = (...v: number[]): Float32Array => new Float32Array(v);
const row = (rootId: number, relPath: string, embedding: Float32Array | null, extra: Partial<ImageRowData> = {}): ImageRowData => ({
  rootId,
  relPath,
  size: 10,
  mtimeMs: 1.5,
  hash: `h-${relPath}`,
  width: 3,
  height: 2,
  format: 'jpeg',
  status: embedding ? 'indexed' : 'skipped',
  reason: embedding ? null : 'corrupt',
  message: embedding ? null : 'bad',
  embedding,
  ...extra,
});

function fresh(name: string): SqliteCatalog {
  const c = SqliteCatalog.open(path.join(dir, `${name}.db`));
  c.updateSettings({ modelId: 'm', modelSource: 'm', dimension: DIM });
  return c;
}

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

  test('writes are atomic; the generation moves only when embeddings change; ids are never reused', () => {
    const c = fresh('writes');
    const root = c.addRoot('/pics');
    expect(c.addRoot('/pics')).toBe(root);
    const m0 = c.marker();
    const [a, b] = c.write([
      { op: 'insert', row: row(root, 'a.jpg', vec(1, 0, 0, 0)) },
      { op: 'insert', row: row(root, 'b.jpg', vec(0, 1, 0, 0)) },
    ]);
    const m1 = c.marker();
    expect(m1).toMatchObject({ generation: m0.generation + 1, count: 2, idSum: a! + b! });
    // An indexed row without an embedding violates the schema: the whole batch rolls back.
    expect(() =>
      c.write([
        { op: 'insert', row: row(root, 'c.jpg', vec(0, 0, 1, 0)) },
        { op: 'insert', row: { ...row(root, 'd.jpg', null), status: 'indexed' } },
      ]),
    ).toThrow();
    expect(c.marker()).toEqual(m1);
    expect(c.getImage(3)).toBeUndefined();
    // Relocation keeps content and embedding and does not move the generation.
    c.write([{ op: 'relocate', id: a!, rootId: root, relPath: 'moved/a.jpg', size: 11, mtimeMs: 2 }]);
    expect(c.marker()).toEqual(m1);
    expect(c.getImage(a!)).toMatchObject({ relPath: 'moved/a.jpg', size: 11, mtimeMs: 2, hash: 'h-a.jpg', status: 'indexed' });
    expect([...c.getEmbedding(a!)!]).toEqual([1, 0, 0, 0]);
    c.write([{ op: 'delete', id: b! }]);
    expect(c.marker()).toMatchObject({ generation: m1.generation + 1, count: 1, idSum: a! });
    const [d] = c.write([{ op: 'insert', row: row(root, 'b.jpg', vec(0, 0, 0, 1)) }]);
    expect(d).toBeGreaterThan(b!);
    // Replace turns an indexed row into a skipped one (and back).
    c.write([{ op: 'replace', id: d!, row: row(root, 'b.jpg', null) }]);
    expect(c.getEmbedding(d!)).toBeUndefined();
    expect(c.counts()).toEqual({ indexed: 1, skipped: 1, failed: 0 });
    expect(c.problems().map((p) => [p.relPath, p.reason, p.message])).toEqual([['b.jpg', 'corrupt', 'bad']]);
    c.close();
  });

  test('embeddings round-trip exactly; pages, prefixes and hash lookups', () => {
    const c = fresh('pages');
    const r1 = c.addRoot('/one');
    const r2 = c.addRoot('/two');
    const rows: ImageRowData[] = [];
    for (let i = 0; i < 25; i++) rows.push(row(i % 2 ? r1 : r2, `${i % 3 === 0 ? 'x/' : 'y/'}${i}.jpg`, vec(i, Math.PI, -i / 7, 1e-30)));
    rows.push(row(r1, 'x/skip.jpg', null));
    const ids = c.write(rows.map((r) => ({ op: 'insert' as const, row: r })));
    const seen: number[] = [];
    for (const page of c.embeddingPages({ pageSize: 4 })) {
      expect(page.vectors.length).toBe(page.ids.length * DIM);
      page.ids.forEach((id, k) => {
        const i = ids.indexOf(id);
        expect([...page.vectors.subarray(k * DIM, (k + 1) * DIM)]).toEqual([...rows[i]!.embedding!]);
      });
      seen.push(...page.ids);
    }
    expect(seen).toEqual(ids.slice(0, 25));
    const underX = [...c.embeddingPages({ pathPrefix: 'x/' })].flatMap((p) => p.ids);
    expect(underX).toEqual(ids.filter((_, i) => i < 25 && i % 3 === 0));
    expect(c.countWithPrefix('x/')).toBe(underX.length);
    const absOne = [...c.embeddingPages({ pathPrefix: '/one/x/' })].flatMap((p) => p.ids);
    expect(absOne).toEqual(ids.filter((_, i) => i < 25 && i % 3 === 0 && i % 2 === 1));
    expect(c.findByHash('h-y/4.jpg')?.image.id).toBe(ids[4]);
    expect(c.findByHash('h-x/skip.jpg')).toBeUndefined();
    expect([...c.getImages([ids[1]!, ids[2]!, 12345]).keys()].sort()).toEqual([ids[1], ids[2]].sort());
    c.close();
  });

  test('changes since a generation: upserted embeddings and removed ids, until pruned', () => {
    const c = fresh('changes');
    const root = c.addRoot('/r');
    const [a, b, d] = c.write([
      { op: 'insert', row: row(root, 'a.jpg', vec(1, 0, 0, 0)) },
      { op: 'insert', row: row(root, 'b.jpg', vec(0, 1, 0, 0)) },
      { op: 'insert', row: row(root, 'd.jpg', vec(0, 0, 0, 1)) },
    ]);
    const g0 = c.marker().generation;
    const [e] = c.write([
      { op: 'insert', row: row(root, 'e.jpg', vec(0, 0, 1, 0)) },
      { op: 'replace', id: a!, row: row(root, 'a.jpg', vec(0.5, 0.5, 0.5, 0.5)) },
      { op: 'replace', id: d!, row: row(root, 'd.jpg', null) },
      { op: 'delete', id: b! },
    ]);
    const since = [...c.embeddingPages({ sinceGeneration: g0 })];
    expect(since.flatMap((p) => p.ids)).toEqual([a, e]);
    expect([...since[0]!.vectors.subarray(0, DIM)]).toEqual([0.5, 0.5, 0.5, 0.5]);
    expect(c.removedSince(g0)).toEqual([b, d]);
    expect(c.removedSince(c.marker().generation)).toEqual([]);
    c.pruneRemoved(c.marker().generation);
    expect(c.removedSince(g0)).toEqual([d]);
    c.close();
  });

  test('mergeRoot moves rows under a prefix keeping ids; removeRoot drops them', () => {
    const c = fresh('roots');
    const outer = c.addRoot('/a');
    const inner = c.addRoot('/a/b');
    const [x] = c.write([{ op: 'insert', row: row(inner, 'x.jpg', vec(1, 1, 1, 1)) }]);
    const [clash] = c.write([{ op: 'insert', row: row(outer, 'b/x.jpg', vec(1, 0, 0, 0)) }]);
    expect(c.mergeRoot(inner, outer, 'b/')).toEqual([clash]);
    expect(c.roots()).toEqual([{ id: outer, path: '/a' }]);
    expect(c.getImage(x!)).toMatchObject({ rootId: outer, relPath: 'b/x.jpg' });
    expect(c.removeRoot(outer)).toEqual([x]);
    expect(c.marker().count).toBe(0);
    c.close();
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

