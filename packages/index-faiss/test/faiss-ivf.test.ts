import { cp, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IndexCorruptError, InvalidArgumentError, loadIndex, MANIFEST_FILE, sha256File, type IndexManifest, type Neighbors, type VectorIndex } from '@pixsearch/core';
import {
  AUTO_MIN_TRAIN,
  autoNlist,
  autoNprobe,
  FaissFlatIndex,
  FaissIvfIndex,
  IVF_NPROBE_OFFSET,
  parseIvfParams,
  patchIvfNprobe,
  trainingRows,
  trainingSample,
} from '../src/index.js';
import { bruteForceTopK, randomUnitVectors } from '@pixsearch/core/datasets';
import { clustered, pickRows, recallAt, seqIds } from './data.js';

let dir: string;
const opened: VectorIndex[] = [];
const track = <T extends VectorIndex>(idx: T): T => {
  opened.push(idx);
  return idx;
};
const ivf = (dimension: number, params: Record<string, number | string> = {}, metric: 'cosine' | 'l2' = 'cosine') =>
  track(FaissIvfIndex.create({ dimension, metric, params }));
const manifestOf = async (out: string) => JSON.parse(await readFile(path.join(out, MANIFEST_FILE), 'utf8')) as IndexManifest;

// Shared data: clustered enough to be realistic, spread enough that nprobe matters.
const d = 32;
const n = 6000;
const nlist = 64;
let base: Float32Array;
let queries: Float32Array;
let truth: Neighbors[];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pixsearch-faiss-ivf-'));
  base = clustered(n, d, 11, 24, 0.8);
  queries = clustered(100, d, 12, 24, 0.8);
  const exact = track(FaissFlatIndex.create({ dimension: d, metric: 'cosine' }));
  await exact.add(seqIds(n), base);
  truth = await exact.search(queries, 10);
});
afterAll(async () => {
  for (const idx of opened) await idx.close();
  await rm(dir, { recursive: true, force: true });
});

describe('faiss-ivf parameters', () => {
  it('validates parameters and derives sensible defaults from the size', () => {
    expect(parseIvfParams({})).toEqual({ nlist: 'auto', nprobe: 'auto', trainAt: 65536 });
    expect(parseIvfParams({ nlist: '128', nprobe: 8 })).toMatchObject({ nlist: 128, nprobe: 8 });
    expect(() => parseIvfParams({ nlist: 0 })).toThrow(InvalidArgumentError);
    expect(() => parseIvfParams({ nlist: 16, nprobe: 17 })).toThrow(/cannot exceed nlist/);
    expect(() => parseIvfParams({ nprobes: 4 })).toThrow(/unknown faiss-ivf parameter "nprobes"/);
    expect(() => parseIvfParams({ trainAt: 'soon' })).toThrow(InvalidArgumentError);
    // 4√N, capped so the (bounded) training sample has ≥ 39 points per list.
    expect(autoNlist(1_000_000, 512)).toBe(840); // 32,768-row sample / 39
    expect(autoNlist(10_000, 512)).toBe(256); // 10,000 / 39 < 4√N = 400
    expect(autoNlist(100_000, 64)).toBe(1265); // 4√N
    expect(autoNprobe(512)).toBe(64);
    expect(autoNprobe(64)).toBe(16);
    expect(autoNprobe(8)).toBe(8);
  });

  it('trains on evenly strided rows: trainingRows of them, increasing, first row 0', () => {
    expect([...trainingSample(10, 1, 4)]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const rows = trainingSample(100_000, 64, 512);
    expect(rows.length).toBe(trainingRows(100_000, 64, 512));
    expect(rows[0]).toBe(0);
    for (let i = 1; i < rows.length; i++) expect(rows[i]!).toBeGreaterThan(rows[i - 1]!);
    expect(rows[rows.length - 1]!).toBeLessThan(100_000);
  });

  it('patchIvfNprobe writes nprobe into an IVF header after checking the tag, nlist and the range', async () => {
    const file = path.join(dir, 'header-only.faiss');
    const head = Buffer.alloc(IVF_NPROBE_OFFSET + 8);
    head.write('IwFl', 0, 'latin1');
    head.writeBigUInt64LE(16n, 37);
    head.writeBigUInt64LE(1n, IVF_NPROBE_OFFSET);
    await writeFile(file, head);
    await patchIvfNprobe(file, 5, 16);
    expect((await readFile(file)).readBigUInt64LE(IVF_NPROBE_OFFSET)).toBe(5n);
    await expect(patchIvfNprobe(file, 17, 16)).rejects.toThrow(InvalidArgumentError);
    await expect(patchIvfNprobe(file, 0, 16)).rejects.toThrow(/nprobe must be in \[1, 16\]/);
    await expect(patchIvfNprobe(file, 1, 8)).rejects.toThrow(IndexCorruptError);
    head.write('IxFI', 0, 'latin1');
    await writeFile(file, head);
    await expect(patchIvfNprobe(file, 1, 16)).rejects.toThrow(/not an IVF,Flat file/);
    expect((await readFile(file)).readBigUInt64LE(IVF_NPROBE_OFFSET)).toBe(1n);
  });
});

describe('faiss-ivf nprobe', () => {
  it('recall rises with nprobe and equals exact search at nprobe = nlist', async () => {
    const idx = ivf(d, { nlist });
    await idx.add(seqIds(n), base);
    expect(idx.isTrained).toBe(false);
    const recalls: number[] = [];
    let full: Neighbors[] = [];
    for (const nprobe of [1, 2, 4, 8, 16, 32, 64]) {
      const got = await idx.search(queries, 10, { nprobe });
      recalls.push(recallAt(got, truth, 10));
      full = got;
    }
    expect(idx.isTrained).toBe(true);
    for (let i = 1; i < recalls.length; i++) expect(recalls[i]!).toBeGreaterThanOrEqual(recalls[i - 1]!);
    expect(recalls[0]!).toBeLessThan(0.9); // nprobe really changes the search
    expect(recalls.at(-1)).toBe(1);
    for (let q = 0; q < truth.length; q++) {
      expect(full[q]!.ids).toEqual(truth[q]!.ids);
      full[q]!.scores.forEach((s, i) => expect(s).toBeCloseTo(truth[q]!.scores[i]!, 5));
    }
    // Larger than nlist clamps to nlist; the default (params) is untouched by per-search values.
    expect(await idx.search(queries, 10, { nprobe: 10_000 })).toEqual(full);
    expect(idx.params).toEqual({ nlist, nprobe: autoNprobe(nlist), trainAt: 65536 });
    const byDefault = await idx.search(queries, 10);
    expect(await idx.search(queries, 10, { nprobe: autoNprobe(nlist) })).toEqual(byDefault);
    expect(recallAt(byDefault, truth, 10)).toBeGreaterThanOrEqual(0.95);
    for (const bad of [0, -1, 1.5, Number.NaN]) await expect(idx.search(queries, 10, { nprobe: bad })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('saves the default nprobe in the IVF header (byte 45) whatever nprobe was searched last', async () => {
    const idx = ivf(d, { nlist, nprobe: 5 });
    await idx.add(seqIds(n), base);
    const at5 = await idx.search(queries, 10);
    await idx.search(queries, 10, { nprobe: 33 });
    const out = path.join(dir, 'nprobe-file');
    await idx.save(out);
    const m = await manifestOf(out);
    expect(m.params).toEqual({ nlist, nprobe: 5, trainAt: 65536 });
    const head = Buffer.alloc(53);
    const fh = await open(path.join(out, m.files.index!.file), 'r');
    await fh.read(head, 0, 53, 0);
    await fh.close();
    expect(head.toString('latin1', 0, 4)).toBe('IwFl');
    expect(head.readBigUInt64LE(37)).toBe(BigInt(nlist));
    expect(head.readBigUInt64LE(IVF_NPROBE_OFFSET)).toBe(5n);
    const loaded = track(await loadIndex(out));
    expect(loaded.params).toEqual(idx.params);
    expect(await loaded.search(queries, 10)).toEqual(at5);
  });
});

describe('faiss-ivf native memory', () => {
  it('frees the instance an nprobe switch replaces (RSS stays flat over repeated switches)', async () => {
    const dim = 64;
    const rows = 70_000; // ≈ 18.5 MB of vectors + labels: above the 16 MiB forced-release threshold
    let x = 7;
    const data = Float32Array.from({ length: rows * dim }, () => ((x = (x * 1103515245 + 12345) >>> 0) / 2 ** 31) - 1);
    const idx = ivf(dim, { nlist: 16 });
    await idx.add(seqIds(rows), data);
    await idx.train();
    const q = data.subarray(0, dim);
    await idx.search(q, 1, { nprobe: 1 });
    await idx.search(q, 1, { nprobe: 2 });
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 12; i++) await idx.search(q, 1, { nprobe: 1 + (i % 2) });
    const grown = process.memoryUsage().rss - before;
    // Twelve dropped copies would be ≈ 220 MB; with the forced release RSS stays within ~one copy.
    expect(grown).toBeLessThan(80 * 2 ** 20);
  }, 120_000);
});

describe('faiss-ivf training', () => {
  it('searches the buffer exactly before training and trains on the first search once there is enough data', async () => {
    const idx = ivf(d);
    const few = AUTO_MIN_TRAIN - 1;
    await idx.add(seqIds(few), base.subarray(0, few * d));
    const exact = await idx.search(queries, 10);
    expect(idx.isTrained).toBe(false);
    expect(idx.params).toMatchObject({ nlist: 'auto', nprobe: 'auto' });
    for (let q = 0; q < 100; q++) {
      const want = bruteForceTopK(base.subarray(0, few * d), d, queries.subarray(q * d, (q + 1) * d), 10);
      expect(exact[q]!.ids).toEqual(want.ids);
      exact[q]!.scores.forEach((s, i) => expect(s).toBeCloseTo(want.scores[i]!, 5));
    }
    await idx.add(seqIds(n - few, few), base.subarray(few * d));
    expect(idx.isTrained).toBe(false); // adds only buffer (trainAt 65536)
    const got = await idx.search(queries, 10);
    expect(idx.isTrained).toBe(true);
    expect(idx.params).toMatchObject({ nlist: autoNlist(n, d), nprobe: autoNprobe(autoNlist(n, d)) });
    expect(recallAt(got, truth, 10)).toBeGreaterThanOrEqual(0.9);
  });

  it('trains during add when the buffer reaches trainAt, then adds straight to FAISS in chunks', async () => {
    const idx = ivf(d, { nlist: 16, trainAt: 2000 });
    await idx.add(seqIds(1500), base.subarray(0, 1500 * d));
    expect(idx.isTrained).toBe(false);
    await idx.add(seqIds(600, 1500), base.subarray(1500 * d, 2100 * d));
    expect(idx.isTrained).toBe(true);
    await idx.add(seqIds(n - 2100, 2100), base.subarray(2100 * d)); // 3900 × 32 floats: two chunks
    expect(idx.size).toBe(n);
    const probe = [0, 1499, 1500, 2099, 2100, 4147, 4148, n - 1];
    const res = await idx.search(pickRows(base, d, probe), 1, { nprobe: 16 });
    expect(res.map((r) => r.ids[0])).toEqual(probe);
  });

  it('refuses to train with fewer than 39 points per list, and keeps answering exactly', async () => {
    const idx = ivf(d, { nlist: 64 });
    await idx.add(seqIds(1000), base.subarray(0, 1000 * d));
    await expect(idx.train()).rejects.toThrow(/needs 2496 vectors/);
    const [r] = await idx.search(base.subarray(5 * d, 6 * d), 3);
    expect(r!.ids[0]).toBe(5);
    expect(idx.isTrained).toBe(false);
  });

  it('saves and loads an untrained index (its buffer) with identical results', async () => {
    const idx = ivf(d, { nlist: 32 });
    await idx.add(seqIds(500, 2 ** 40), base.subarray(0, 500 * d));
    await idx.remove([2 ** 40 + 3]);
    const out = path.join(dir, 'untrained');
    await idx.save(out);
    const m = await manifestOf(out);
    expect(Object.keys(m.files).sort()).toEqual(['buffer', 'ids']);
    expect(m.extra).toMatchObject({ trained: false });
    const loaded = track((await loadIndex(out)) as FaissIvfIndex);
    expect(loaded.isTrained).toBe(false);
    expect(await loaded.search(queries, 5)).toEqual(await idx.search(queries, 5));
    await loaded.add(seqIds(n - 500, 2 ** 40 + 500), base.subarray(500 * d));
    await loaded.train();
    expect(loaded.isTrained).toBe(true);
    const [r] = await loaded.search(base.subarray(4000 * d, 4001 * d), 1, { nprobe: 32 });
    expect(r!.ids).toEqual([2 ** 40 + 4000]);
  });
});

describe('faiss-ivf ids and removal', () => {
  it('upserts and removes on a trained index; compaction keeps the quantizer and the answers', async () => {
    const idx = ivf(d, { nlist });
    await idx.add(seqIds(n, 7), base);
    await idx.train();
    // Upsert: id 7 (row 0) gets row 1's vector.
    await idx.add([7], base.subarray(d, 2 * d));
    const [up] = await idx.search(base.subarray(d, 2 * d), 2, { nprobe: nlist });
    expect(new Set(up!.ids)).toEqual(new Set([7, 8]));
    // Remove 30 % (past the compaction threshold) and compare with exact search over survivors.
    const dead = seqIds(n).filter((i) => i % 10 < 3 && i !== 0);
    expect(await idx.remove(dead.map((i) => i + 7))).toBe(dead.length);
    const out = path.join(dir, 'compacted');
    await idx.save(out);
    expect((await manifestOf(out)).extra).toMatchObject({ trained: true, positions: n - dead.length, tombstones: 0 });
    const deadSet = new Set(dead);
    const survivors = (r: number) => (deadSet.has(r) || r === 0 ? undefined : r + 7);
    const got = await idx.search(queries.subarray(0, 20 * d), 10, { nprobe: nlist });
    for (let q = 0; q < 20; q++) {
      const want = bruteForceTopK(base, d, queries.subarray(q * d, (q + 1) * d), 10, { idOf: survivors });
      const with7 = bruteForceTopK(base.subarray(d, 2 * d), d, queries.subarray(q * d, (q + 1) * d), 1, { idOf: () => 7 });
      const merged = [...want.ids.map((id, i) => ({ id, s: want.scores[i]! })), { id: 7, s: with7.scores[0]! }].sort((a, b) => b.s - a.s).slice(0, 10);
      expect(got[q]!.ids).toEqual(merged.map((x) => x.id));
    }
    // New vectors after compaction get fresh positions and the right ids; the file round-trips.
    await idx.add([2 ** 52], base.subarray(5 * d, 6 * d));
    const [fresh] = await idx.search(base.subarray(5 * d, 6 * d), 2, { nprobe: nlist });
    expect(fresh!.ids).toContain(2 ** 52);
    const loaded = track(await loadIndex(out));
    expect(await loaded.search(queries, 10)).toEqual(await (async () => {
      await idx.remove([2 ** 52]);
      return idx.search(queries, 10);
    })());
  });

  it('writes sparse inverted lists when most are empty, and reads them back', async () => {
    const idx = ivf(d, { nlist });
    await idx.add(seqIds(n), base);
    await idx.train();
    await idx.remove(seqIds(n - 3, 3)); // 3 vectors left in at most 3 of 64 lists
    const out = path.join(dir, 'sparse');
    await idx.save(out);
    const file = await readFile(path.join(out, (await manifestOf(out)).files.index!.file));
    const ilar = file.indexOf('ilar', 53, 'latin1');
    expect(file.toString('latin1', ilar + 20, ilar + 24)).toBe('sprs');
    const loaded = track(await loadIndex(out));
    expect(loaded.size).toBe(3);
    const [r] = await loaded.search(base.subarray(d, 2 * d), 10, { nprobe: nlist });
    expect(r!.ids.sort()).toEqual([0, 1, 2]);
  });

  it('l2: scores are negated squared distances and nprobe = nlist equals exact search', async () => {
    const raw = randomUnitVectors(3000, 16, 21).map((v) => v * 3);
    const idx = ivf(16, { nlist: 16 }, 'l2');
    await idx.add(seqIds(3000), raw);
    const q = randomUnitVectors(5, 16, 22);
    const got = await idx.search(q, 5, { nprobe: 16 });
    for (let i = 0; i < 5; i++) {
      const want = bruteForceTopK(raw, 16, q.subarray(i * 16, (i + 1) * 16), 5, { metric: 'l2' });
      expect(got[i]!.ids).toEqual(want.ids);
      got[i]!.scores.forEach((s, j) => expect(s).toBeCloseTo(want.scores[j]!, 3));
    }
  });
});

describe('faiss-ivf corrupt files', () => {
  it('rejects IVF files whose structure disagrees with itself or the manifest, before FAISS reads them', async () => {
    const idx = ivf(d, { nlist: 16 });
    await idx.add(seqIds(1000), base.subarray(0, 1000 * d));
    const src = path.join(dir, 'ivf-corrupt-src');
    await idx.save(src);
    const m = await manifestOf(src);
    expect(m.files.index).toBeDefined();
    const damage = async (label: string, edit: (b: Buffer) => Buffer | void, manifestEdit?: (mm: IndexManifest) => void) => {
      const target = path.join(dir, `ivf-corrupt-${label}`);
      await cp(src, target, { recursive: true });
      const file = path.join(target, m.files.index!.file);
      const buf = await readFile(file);
      await writeFile(file, edit(buf) ?? buf);
      const fixed = structuredClone(m);
      fixed.files.index = { ...fixed.files.index!, bytes: (await readFile(file)).length, sha256: await sha256File(file) };
      manifestEdit?.(fixed);
      await writeFile(path.join(target, MANIFEST_FILE), JSON.stringify(fixed));
      await expect(loadIndex(target), label).rejects.toBeInstanceOf(IndexCorruptError);
    };
    const ilar = (b: Buffer) => b.indexOf('ilar', 53, 'latin1');
    // A list size of 2^36 would make FAISS allocate terabytes (std::bad_alloc aborts Node).
    await damage('huge-list', (b) => void b.writeBigUInt64LE(2n ** 36n, ilar(b) + 32));
    await damage('nlist', (b) => void b.writeBigUInt64LE(17n, 37));
    await damage('nprobe-0', (b) => void b.writeBigUInt64LE(0n, IVF_NPROBE_OFFSET));
    await damage('tag', (b) => void b.write('IwPQ', 0, 'latin1'));
    await damage('untrained', (b) => void b.writeUInt8(0, 32));
    await damage('code-size', (b) => void b.writeBigUInt64LE(64n, ilar(b) + 12));
    await damage('truncated-list', (b) => b.subarray(0, b.length - 8));
    await damage('manifest-nlist', () => undefined, (mm) => void (mm.params.nlist = 32));
    await damage('manifest-params', () => undefined, (mm) => void (mm.params.nprobe = 'lots'));
  });
});
