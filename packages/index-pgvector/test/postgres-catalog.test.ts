import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { PixsearchError } from '@pixsearch/core';
import { catalogRow, describeCatalogConformance } from '@pixsearch/core/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveFilter, SqliteCatalog, type Catalog, type FilterOptions, type ImageMetadata } from '@pixsearch/core/engine';
import { POSTGRES_CATALOG_SCHEMA_VERSION, PostgresCatalog } from '../src/catalog/index.js';
import { freshDatabase, plainServer } from './pg-env.js';

let server: { url: string; stop(): Promise<void> };
const opened: PostgresCatalog[] = [];
beforeAll(async () => {
  server = await plainServer();
});
afterAll(async () => {
  for (const c of opened) c.close();
  await server?.stop();
});

const DIM = 4;
const vec = (...v: number[]): Float32Array => new Float32Array(v);
const row = catalogRow;

async function fresh(label: string): Promise<{ c: PostgresCatalog; url: string }> {
  const url = await freshDatabase(server.url, label);
  const c = PostgresCatalog.open(url);
  opened.push(c);
  c.updateSettings({ modelId: 'm', modelSource: 'm', dimension: DIM });
  return { c, url };
}

// Core's Catalog conformance suite: one fresh database per case.
const urls = new Map<string, string>();
describeCatalogConformance({
  name: 'postgres',
  create: async (label) => {
    const url = await freshDatabase(server.url, label);
    urls.set(label, url);
    return PostgresCatalog.open(url);
  },
  openReader: (label) => PostgresCatalog.open(urls.get(label)!, { readOnly: true }),
});

describe('PostgresCatalog (PostgreSQL specifics)', () => {
  test('creates its schema once; every opener of the database sees the same catalog', async () => {
    const url = await freshDatabase(server.url, 'schema');
    const many = Array.from({ length: 3 }, () => PostgresCatalog.open(url));
    opened.push(...many);
    const ids = new Set(many.map((c) => c.marker().catalogId));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toMatch(/^[0-9a-f-]{36}$/);
    const client = new pg.Client(url);
    await client.connect();
    const { rows } = await client.query<{ value: string }>("SELECT value FROM pixsearch.meta WHERE key = 'schemaVersion'");
    await client.end();
    expect(Number(rows[0]!.value)).toBe(POSTGRES_CATALOG_SCHEMA_VERSION);
    expect(many[0]!.location).toContain('127.0.0.1');
  });

  test('a statement the server refuses (duplicate path) rolls the whole batch back', async () => {
    const { c } = await fresh('rollback');
    const root = c.addRoot('/pics');
    c.write([{ op: 'insert', row: row(root, 'a.jpg', vec(1, 0, 0, 0)) }]);
    const m1 = c.marker();
    expect(() =>
      c.write([
        { op: 'insert', row: row(root, 'c.jpg', vec(0, 0, 1, 0)) },
        { op: 'insert', row: row(root, 'a.jpg', vec(0, 0, 1, 0)) },
      ]),
    ).toThrow(/duplicate key/);
    expect(c.marker()).toEqual(m1);
    expect(c.counts().indexed).toBe(1);
    // The connection is usable after the failed transaction.
    c.write([{ op: 'insert', row: row(root, 'c.jpg', vec(0, 0, 1, 0)) }]);
    expect(c.counts().indexed).toBe(2);
    expect(() => c.write([{ op: 'insert', row: row(root, 'bad.jpg', vec(1, 2, 3)) }])).toThrow(/3 components/);
  });

  test('a read snapshot sees one state across awaits while another process writes', async () => {
    const { c, url } = await fresh('snapshot');
    const root = c.addRoot('/r');
    c.write([{ op: 'insert', row: row(root, 'a.jpg', vec(1, 0, 0, 0)) }]);
    const other = PostgresCatalog.open(url);
    opened.push(other);
    const counts = await c.readSnapshot(async () => {
      const before = c.marker().count;
      other.write([{ op: 'insert', row: row(root, 'b.jpg', vec(0, 1, 0, 0)) }]);
      await new Promise((r) => setImmediate(r));
      return [before, c.marker().count];
    });
    expect(counts).toEqual([1, 1]);
    expect(c.marker().count).toBe(2);
  });

  test('read-only openers; a newer schema is refused with a typed error; a bad URL is a typed error', async () => {
    const { c: w, url } = await fresh('ro');
    const r = PostgresCatalog.open(url, { readOnly: true });
    opened.push(r);
    expect(r.readOnly).toBe(true);
    expect(() => r.addRoot('/x')).toThrow(/read-only/);
    w.addRoot('/seen');
    expect(r.roots().map((x) => x.path)).toEqual(['/seen']);
    const emptyUrl = await freshDatabase(server.url, 'ro_empty');
    expect(() => PostgresCatalog.open(emptyUrl, { readOnly: true })).toThrow(expect.objectContaining({ code: 'CATALOG_VERSION' }));
    const client = new pg.Client(url);
    await client.connect();
    await client.query(`UPDATE pixsearch.meta SET value = '${POSTGRES_CATALOG_SCHEMA_VERSION + 1}' WHERE key = 'schemaVersion'`);
    await client.end();
    expect(() => PostgresCatalog.open(url)).toThrow(expect.objectContaining({ code: 'CATALOG_VERSION' }));
    const bad = new URL(server.url);
    bad.pathname = '/no_such_database';
    bad.password = 'secret';
    let err: PixsearchError | undefined;
    try {
      PostgresCatalog.open(bad.toString());
    } catch (e) {
      err = e as PixsearchError;
    }
    expect(err?.code).toBe('CATALOG_OPEN');
    expect(err?.message).toMatch(/no_such_database/);
    expect(err?.message).not.toContain('secret');
  });

  test('metadata, filters, date order, facets and hash groups answer exactly as the SQLite catalog', async () => {
    const { c: pgc } = await fresh('meta');
    const dir = mkdtempSync(path.join(tmpdir(), 'pixsearch-pg-parity-'));
    const lite = SqliteCatalog.open(path.join(dir, 'catalog.db'));
    try {
      lite.updateSettings({ modelId: 'm', modelSource: 'm', dimension: DIM });
      const meta = (over: Partial<ImageMetadata>): ImageMetadata => ({
        takenAt: null, takenLocal: null, takenOffset: null, dateSource: null, make: null, model: null, lens: null, latitude: null, longitude: null, orientation: null, ...over,
      });
      const day = (d: string): number => Date.parse(`${d}T12:00:00Z`);
      for (const cat of [pgc, lite] as Catalog[]) {
        const root = cat.addRoot('/photos');
        const other = cat.addRoot('/other');
        cat.write([
          { op: 'insert', row: row(root, 'trips/a.jpg', vec(1, 0, 0, 0), { meta: meta({ takenAt: day('2023-07-14'), takenLocal: day('2023-07-14'), dateSource: 'exif-original', make: 'FUJIFILM', model: 'X-T4', latitude: 1, longitude: 2 }) }) },
          { op: 'insert', row: row(root, 'trips/b.jpg', vec(0, 1, 0, 0), { width: 4000, height: 3000, hash: 'same', meta: meta({ takenAt: day('2022-01-01'), takenLocal: day('2022-01-01'), dateSource: 'exif-original', make: 'Canon', model: 'Canon EOS R5' }) }) },
          { op: 'insert', row: row(root, 'c.png', vec(0, 0, 1, 0), { format: 'png', hash: 'same', meta: meta({ takenAt: day('2021-05-05'), takenLocal: day('2021-05-05'), dateSource: 'mtime' }) }) },
          { op: 'insert', row: row(other, 'd.jpg', vec(0, 0, 0, 1)) },
          { op: 'insert', row: row(root, 'bad.jpg', null) },
        ]);
        const d = cat.getImages(cat.matchingIds(undefined)).values().next().value!;
        cat.write([{ op: 'metadata', id: d.id + 3, meta: meta({ takenAt: day('2024-02-02'), takenLocal: day('2024-02-02'), dateSource: 'exif-create', make: 'Apple', model: 'iPhone 12' }) }]);
      }
      const filters: (FilterOptions | undefined)[] = [
        undefined,
        { camera: 'canon' },
        { camera: ['x-t4', 'IPHONE'] },
        { from: '2022-01-01', to: '2023-12-31' },
        { from: '2023-07-14T00:00:00Z' },
        { format: 'png' },
        { minWidth: 1000, minHeight: 1000 },
        { hasLocation: true },
        { hasLocation: false, pathPrefix: 'trips/' },
        { pathPrefix: '/other/' },
      ];
      for (const f of filters) {
        const rf = f && resolveFilter(f);
        const label = JSON.stringify(f);
        expect(pgc.countMatching(rf), label).toBe(lite.countMatching(rf));
        expect(pgc.matchingIds(rf), label).toEqual(lite.matchingIds(rf));
        for (const order of ['desc', 'asc'] as const) {
          expect(pgc.browse(rf, order, 0, 10).map((r) => r.relPath), label).toEqual(lite.browse(rf, order, 0, 10).map((r) => r.relPath));
        }
        expect(pgc.facets(rf), label).toEqual(lite.facets(rf));
        expect([...pgc.embeddingPages({ ...(rf ? { filter: rf } : {}) })].flatMap((p) => p.ids), label).toEqual([...lite.embeddingPages({ ...(rf ? { filter: rf } : {}) })].flatMap((p) => p.ids));
      }
      const ids = pgc.matchingIds(undefined);
      expect(pgc.orderByDate(ids, 'desc', 1, 2)).toEqual(lite.orderByDate(lite.matchingIds(undefined), 'desc', 1, 2));
      expect(pgc.hashGroups()).toEqual(lite.hashGroups());
      expect(pgc.hashGroups()).toHaveLength(1);
      const a = [...pgc.getImages(ids).values()].find((r) => r.relPath === 'trips/a.jpg')!;
      expect(a.camera).toBe('FUJIFILM X-T4');
      expect(a.meta).toMatchObject({ dateSource: 'exif-original', latitude: 1 });
      expect([...pgc.getImages(ids).values()].find((r) => r.relPath === 'd.jpg')!.camera).toBe('Apple iPhone 12');
    } finally {
      lite.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
