import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PixsearchError } from '@pixsearch/core';
import { describeCatalogConformance } from '@pixsearch/core/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveFilter, SqliteCatalog, type Catalog, type FilterOptions, type ImageMetadata, type ImageRowData } from '@pixsearch/core/engine';
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

  test('writes are atomic; the generation moves only when embeddings change; ids are never reused', async () => {
    const { c } = await fresh('writes');
    const root = c.addRoot('/pics');
    expect(c.addRoot('/pics')).toBe(root);
    const m0 = c.marker();
    const [a, b] = c.write([
      { op: 'insert', row: row(root, 'a.jpg', vec(1, 0, 0, 0)) },
      { op: 'insert', row: row(root, 'b.jpg', vec(0, 1, 0, 0)) },
    ]);
    const m1 = c.marker();
    expect(m1).toMatchObject({ generation: m0.generation + 1, count: 2, idSum: a! + b! });
    expect(() =>
      c.write([
        { op: 'insert', row: row(root, 'c.jpg', vec(0, 0, 1, 0)) },
        { op: 'insert', row: { ...row(root, 'd.jpg', null), status: 'indexed' } },
      ]),
    ).toThrow(PixsearchError);
    expect(c.marker()).toEqual(m1);
    // A failure inside the server (duplicate path) also rolls the whole batch back.
    expect(() =>
      c.write([
        { op: 'insert', row: row(root, 'c.jpg', vec(0, 0, 1, 0)) },
        { op: 'insert', row: row(root, 'a.jpg', vec(0, 0, 1, 0)) },
      ]),
    ).toThrow(/duplicate key/);
    expect(c.marker()).toEqual(m1);
    expect(c.counts().indexed).toBe(2);
    c.write([{ op: 'relocate', id: a!, rootId: root, relPath: 'moved/a.jpg', size: 11, mtimeMs: 2 }]);
    expect(c.marker()).toEqual(m1);
    expect(c.getImage(a!)).toMatchObject({ relPath: 'moved/a.jpg', size: 11, mtimeMs: 2, hash: 'h-a.jpg', status: 'indexed' });
    expect([...c.getEmbedding(a!)!]).toEqual([1, 0, 0, 0]);
    c.write([{ op: 'delete', id: b! }]);
    expect(c.marker()).toMatchObject({ generation: m1.generation + 1, count: 1, idSum: a! });
    const [d] = c.write([{ op: 'insert', row: row(root, 'b.jpg', vec(0, 0, 0, 1)) }]);
    expect(d).toBeGreaterThan(b!);
    c.write([{ op: 'replace', id: d!, row: row(root, 'b.jpg', null) }]);
    expect(c.getEmbedding(d!)).toBeUndefined();
    expect(c.counts()).toEqual({ indexed: 1, skipped: 1, failed: 0 });
    expect(c.problems().map((p) => [p.relPath, p.reason, p.message])).toEqual([['b.jpg', 'corrupt', 'bad']]);
    expect(() => c.write([{ op: 'replace', id: 999_999, row: row(root, 'z.jpg', null) }])).toThrow(/no image 999999/);
  });

  test('embeddings round-trip exactly; pages, prefixes and hash lookups', async () => {
    const { c } = await fresh('pages');
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
    expect(() => c.write([{ op: 'insert', row: row(r1, 'bad.jpg', vec(1, 2, 3)) }])).toThrow(/3 components/);
  });

  test('changes since a generation: upserted embeddings and removed ids, until pruned', async () => {
    const { c } = await fresh('changes');
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
  });

  test('mergeRoot moves rows under a prefix keeping ids; removeRoot drops them', async () => {
    const { c } = await fresh('roots');
    const outer = c.addRoot('/a');
    const inner = c.addRoot('/a/b');
    const [x] = c.write([{ op: 'insert', row: row(inner, 'x.jpg', vec(1, 1, 1, 1)) }]);
    const [clash] = c.write([{ op: 'insert', row: row(outer, 'b/x.jpg', vec(1, 0, 0, 0)) }]);
    expect(c.mergeRoot(inner, outer, 'b/')).toEqual([clash]);
    expect(c.roots()).toEqual([{ id: outer, path: '/a' }]);
    expect(c.getImage(x!)).toMatchObject({ rootId: outer, relPath: 'b/x.jpg' });
    expect(c.removeRoot(outer)).toEqual([x]);
    expect(c.marker().count).toBe(0);
  });

  test('settings round-trip; resetEmbeddings forgets embeddings in one transaction', async () => {
    const { c } = await fresh('settings');
    c.updateSettings({ backend: 'pgvector', backendParams: { M: 16, table: 't' }, lastSync: '2026-01-01T00:00:00.000Z' });
    expect(c.settings()).toEqual({ modelId: 'm', modelSource: 'm', dimension: DIM, backend: 'pgvector', backendParams: { M: 16, table: 't' }, lastSync: '2026-01-01T00:00:00.000Z' });
    const root = c.addRoot('/r');
    const [a] = c.write([{ op: 'insert', row: row(root, 'a.jpg', vec(1, 0, 0, 0)) }]);
    c.resetEmbeddings({ modelId: 'm2', modelSource: null, dimension: 8 });
    expect(c.getImage(a!)).toMatchObject({ status: 'failed', reason: 'model-changed' });
    expect(c.getEmbedding(a!)).toBeUndefined();
    expect(c.settings()).toMatchObject({ modelId: 'm2', modelSource: null, dimension: 8 });
    c.write([{ op: 'replace', id: a!, row: row(root, 'a.jpg', new Float32Array(8).fill(0.25)) }]);
    expect(c.getEmbedding(a!)!.length).toBe(8);
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
