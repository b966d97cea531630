/**
 * The Catalog conformance suite: what the engine relies on from any catalog store. The SQLite
 * catalog runs it (core's test/engine-catalog.test.ts); another store (e.g. PostgreSQL) runs it
 * from a tiny test file:
 *
 *   describeCatalogConformance({ name: 'postgres', create: (label) => PostgresCatalog.open(urlFor(label)) });
 *
 * Each case gets a fresh catalog from `create(label)` (labels are unique within a run) and the
 * suite closes it. `openReader(label)`, when given, opens a read-only view of the catalog created
 * under `label`; without it the read-only case is skipped with that reason. `teardown` runs once
 * after every case (stop a server, remove a folder).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Catalog, ImageRowData } from '../engine/catalog.js';

export interface CatalogConformanceOptions {
  /** Store name, used in test titles. */
  name: string;
  /** A fresh, empty, writable catalog. */
  create(label: string): Catalog | Promise<Catalog>;
  /** A read-only catalog on the data of the one created under `label`. */
  openReader?(label: string): Catalog | Promise<Catalog>;
  /** Runs once after every case, after the suite closed its catalogs. */
  teardown?(): void | Promise<void>;
}

const DIM = 4;
const vec = (...v: number[]): Float32Array => new Float32Array(v);

/** A catalog row for tests: indexed when `embedding` is given, else skipped as `corrupt`. */
export function catalogRow(rootId: number, relPath: string, embedding: Float32Array | null, extra: Partial<ImageRowData> = {}): ImageRowData {
  return {
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
  };
}

/** Registers the suite's tests in the current vitest file. */
export function describeCatalogConformance(options: CatalogConformanceOptions): void {
  const opened: Catalog[] = [];
  const row = catalogRow;
  const fresh = async (label: string): Promise<Catalog> => {
    const c = await options.create(label);
    opened.push(c);
    c.updateSettings({ modelId: 'm', modelSource: 'm', dimension: DIM });
    return c;
  };

  describe(`Catalog conformance: ${options.name}`, () => {
    afterAll(async () => {
      for (const c of opened.splice(0)) c.close();
      await options.teardown?.();
    });

    describe('settings and roots', () => {
      it('settings round-trip; a new catalog has a stable random id', async () => {
        const c = await fresh('settings');
        const m = c.marker();
        expect(m).toMatchObject({ generation: expect.any(Number), count: 0, idSum: 0 });
        expect(m.catalogId).toMatch(/^[0-9a-f-]{36}$/);
        c.updateSettings({ backend: 'hnswlib', backendParams: { M: 8, mode: 'x' }, lastSync: '2026-01-01T00:00:00.000Z' });
        expect(c.settings()).toEqual({
          modelId: 'm',
          modelSource: 'm',
          dimension: DIM,
          backend: 'hnswlib',
          backendParams: { M: 8, mode: 'x' },
          lastSync: '2026-01-01T00:00:00.000Z',
          remoteIndex: null,
        });
        expect(c.marker().catalogId).toBe(m.catalogId);
        // A remote index's record round-trips (every process opening the catalog finds the same index).
        const remoteIndex = { name: 'library', backend: 'pgvector', params: { type: 'halfvec' }, modelId: 'm', dimension: DIM, marker: m, savedAt: '2026-01-01T00:00:00.000Z' };
        c.updateSettings({ remoteIndex });
        expect(c.settings().remoteIndex).toEqual(remoteIndex);
        expect(c.readOnly).toBe(false);
        expect(typeof c.location).toBe('string');
      });

      it('mergeRoot moves rows under a prefix keeping ids; removeRoot drops them', async () => {
        const c = await fresh('roots');
        const outer = c.addRoot('/a');
        const inner = c.addRoot('/a/b');
        expect(c.addRoot('/a')).toBe(outer);
        const [x] = c.write([{ op: 'insert', row: row(inner, 'x.jpg', vec(1, 1, 1, 1)) }]);
        const [clash] = c.write([{ op: 'insert', row: row(outer, 'b/x.jpg', vec(1, 0, 0, 0)) }]);
        expect(c.mergeRoot(inner, outer, 'b/')).toEqual([clash]);
        expect(c.roots()).toEqual([{ id: outer, path: '/a' }]);
        expect(c.getImage(x!)).toMatchObject({ rootId: outer, relPath: 'b/x.jpg' });
        expect(c.removeRoot(outer)).toEqual([x]);
        expect(c.marker().count).toBe(0);
      });
    });

    describe('writes', () => {
      it('writes are atomic; the generation moves only when embeddings change; ids are never reused', async () => {
        const c = await fresh('writes');
        const root = c.addRoot('/pics');
        const m0 = c.marker();
        const [a, b] = c.write([
          { op: 'insert', row: row(root, 'a.jpg', vec(1, 0, 0, 0)) },
          { op: 'insert', row: row(root, 'b.jpg', vec(0, 1, 0, 0)) },
        ]);
        const m1 = c.marker();
        expect(m1).toMatchObject({ generation: m0.generation + 1, count: 2, idSum: a! + b! });
        expect(c.generation()).toBe(m1.generation);
        // A bounded count stops at its limit.
        expect([c.countMatching(undefined), c.countMatching(undefined, 1), c.countMatching(undefined, 5), c.countMatching({ formats: ['nope'] }, 1)]).toEqual([2, 1, 2, 0]);
        // An indexed row without an embedding is refused: the whole batch rolls back.
        expect(() =>
          c.write([
            { op: 'insert', row: row(root, 'c.jpg', vec(0, 0, 1, 0)) },
            { op: 'insert', row: { ...row(root, 'd.jpg', null), status: 'indexed' } },
          ]),
        ).toThrow();
        expect(c.marker()).toEqual(m1);
        expect(c.counts()).toEqual({ indexed: 2, skipped: 0, failed: 0 });
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
        c.write([{ op: 'replace', id: d!, row: row(root, 'b.jpg', vec(0, 0, 1, 0)) }]);
        expect([...c.getEmbedding(d!)!]).toEqual([0, 0, 1, 0]);
      });

      it('forEachFileState pages every row of a root with its file state', async () => {
        const c = await fresh('file-states');
        const r1 = c.addRoot('/one');
        const r2 = c.addRoot('/two');
        const n = 1234;
        c.write(Array.from({ length: n }, (_, i) => ({ op: 'insert' as const, row: row(i % 3 ? r1 : r2, `f${i}.jpg`, i % 5 ? vec(1, 0, 0, 0) : null) })));
        const seen: string[] = [];
        c.forEachFileState(r1, (rows) => {
          for (const r of rows) {
            expect(r.rootId).toBe(r1);
            expect(r).toMatchObject({ size: 10, mtimeMs: 1.5, hash: `h-${r.relPath}` });
            seen.push(r.relPath);
          }
        });
        expect(new Set(seen).size).toBe(seen.length);
        expect(seen.length).toBe(Array.from({ length: n }, (_, i) => i).filter((i) => i % 3 !== 0).length);
      });

      it('resetEmbeddings forgets every embedding and records the new model in one step', async () => {
        const c = await fresh('reset');
        const root = c.addRoot('/r');
        const [a] = c.write([
          { op: 'insert', row: row(root, 'a.jpg', vec(1, 0, 0, 0)) },
          { op: 'insert', row: row(root, 'b.jpg', null) },
        ]);
        const g = c.marker().generation;
        c.resetEmbeddings({ modelId: 'other', modelSource: 'src', dimension: 8 });
        expect(c.settings()).toMatchObject({ modelId: 'other', modelSource: 'src', dimension: 8 });
        expect(c.getEmbedding(a!)).toBeUndefined();
        expect(c.getImage(a!)).toMatchObject({ status: 'failed', reason: 'model-changed' });
        expect(c.marker()).toMatchObject({ count: 0, idSum: 0 });
        expect(c.marker().generation).toBeGreaterThan(g);
        expect(c.findByHash('h-a.jpg')).toBeUndefined();
      });
    });

    describe('reads', () => {
      it('embeddings round-trip exactly; pages, prefixes and hash lookups', async () => {
        const c = await fresh('pages');
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
        expect([...c.findByHash('h-y/4.jpg')!.embedding]).toEqual([...rows[4]!.embedding!]);
        expect(c.findByHash('h-x/skip.jpg')).toBeUndefined();
        expect([...c.getImages([ids[1]!, ids[2]!, 12345]).keys()].sort()).toEqual([ids[1], ids[2]].sort());
        expect(c.getImage(987654)).toBeUndefined();
      });

      it('changes since a generation: upserted embeddings and removed ids, until pruned', async () => {
        const c = await fresh('changes');
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

      it('readSnapshot runs async work against one consistent view', async () => {
        const c = await fresh('snapshot');
        const root = c.addRoot('/r');
        c.write([{ op: 'insert', row: row(root, 'a.jpg', vec(1, 0, 0, 0)) }]);
        const result = await c.readSnapshot(async () => {
          const before = c.marker();
          await new Promise((r) => setImmediate(r));
          return { before, after: c.marker() };
        });
        expect(result.after).toEqual(result.before);
        expect(result.before.count).toBe(1);
      });
    });

    describe('readers', () => {
      const reader = options.openReader;
      (reader ? it : it.skip)(
        reader ? 'a read-only opener sees the writer’s data and refuses writes' : 'a read-only opener — skipped: the store gave no openReader()',
        async () => {
          const w = await fresh('reader');
          const r = await reader!('reader');
          opened.push(r);
          expect(r.readOnly).toBe(true);
          w.addRoot('/seen');
          expect(r.roots().map((x) => x.path)).toEqual(['/seen']);
          expect(() => r.addRoot('/x')).toThrow();
          expect(r.marker().catalogId).toBe(w.marker().catalogId);
        },
      );
    });
  });
}
