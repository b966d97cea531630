import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ClosedError, IndexCorruptError, InvalidArgumentError, readIndexManifest, type Neighbors } from '@pixsearch/core';
import { bruteForceTopK, clusteredDataset, exactTopK, randomUnitVectors, recallAtK } from '@pixsearch/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { AutoIndex, autoBackend, autoThreshold, ExactIndex, exactBackend, parseAutoParams } from '../src/index.js';
import { shardOf } from '../src/exact-protocol.js';
import { row, tempDir } from './helpers.js';

const D = 16;
const open: { close(): Promise<void> | void }[] = [];
const dirs: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const idx of open.splice(0)) await idx.close();
  for (const cleanup of dirs.splice(0)) await cleanup();
});

async function exact(params: Record<string, number | string> = {}, d = D): Promise<ExactIndex> {
  const idx = await ExactIndex.create(d, 'cosine', params);
  open.push(idx);
  return idx;
}
async function dir(): Promise<string> {
  const t = await tempDir();
  dirs.push(t.cleanup);
  return t.dir;
}
const ids = (n: number, f = (i: number) => i) => Array.from({ length: n }, (_, i) => f(i));

describe('exact backend', () => {
  it('returns the brute-force top-k with exact scores, across shards and query batches', async () => {
    const n = 2000;
    const v = randomUnitVectors(n, D, 3);
    const keys = ids(n, (i) => i * 5 + 1);
    const idx = await exact({ threads: 3 });
    await idx.add(keys, v);
    expect(idx.size).toBe(n);
    const queries = randomUnitVectors(50, D, 4);
    const got = await idx.search(queries, 10);
    for (let q = 0; q < 50; q++) {
      const want = bruteForceTopK(v, D, row(queries, q, D), 10, { idOf: (r) => keys[r] }).ids;
      expect(got[q]!.ids).toEqual(want);
      const r = keys.indexOf(want[0]!);
      let s = 0;
      for (let j = 0; j < D; j++) s += v[r * D + j]! * queries[q * D + j]!;
      expect(got[q]!.scores[0]).toBeCloseTo(s, 6);
    }
    // One query at a time gives the same answers as the batch.
    for (let q = 0; q < 5; q++) expect((await idx.search(row(queries, q, D), 10))[0]).toEqual(got[q]);
  });

  it('coalesces searches that arrive during a round into one round per k, each with its own exact answer', async () => {
    const n = 3000;
    const v = randomUnitVectors(n, D, 11);
    const keys = ids(n, (i) => i * 3 + 2);
    for (const quantization of ['f32', 'i8'] as const) {
      const idx = await exact({ threads: 2, quantization });
      await idx.add(keys, v);
      const queries = randomUnitVectors(7, D, 12);
      const ks = [10, 10, 5, 10, 5, 10, 1];
      // Answers of searches on their own, one after the other.
      const alone: (Neighbors | undefined)[] = [];
      for (let q = 0; q < 7; q++) alone.push((await idx.search(row(queries, q, D), ks[q]!))[0]);
      const before = idx.searchStats;
      expect(before).toEqual({ rounds: 7, queries: 7 });
      // Hold the shards, put one search in flight, then queue six more behind it.
      const release = await idx.suspend();
      const posted = idx.nextSearch();
      const first = idx.search(row(queries, 0, D), ks[0]!);
      await posted;
      const rest = ks.slice(1).map((k, i) => idx.search(row(queries, i + 1, D), k));
      await release();
      const got = [(await first)[0], ...(await Promise.all(rest)).map((r) => r[0])];
      expect(got).toEqual(alone);
      // The first round alone, then k = 10 (queries 1, 3, 5), then k = 5 (2, 4), then k = 1 (6): oldest first.
      expect(idx.searchStats).toEqual({ rounds: before.rounds + 4, queries: before.queries + 7 });
    }
  });

  it('answers the searches it accepted before a close, then rejects new ones', async () => {
    const idx = await ExactIndex.create(D, 'cosine', { threads: 1 });
    const v = randomUnitVectors(2, D, 5);
    await idx.add([1, 2], v);
    const release = await idx.suspend();
    const posted = idx.nextSearch();
    const first = idx.search(row(v, 0, D), 1);
    await posted;
    const waiting = idx.search(row(v, 1, D), 1);
    const closed = idx.close();
    await expect(idx.search(row(v, 0, D), 1)).rejects.toBeInstanceOf(ClosedError);
    await release();
    expect((await first)[0]!.ids).toEqual([1]);
    expect((await waiting)[0]!.ids).toEqual([2]);
    await closed;
  });

  it('spreads sequential ids evenly over the shards', () => {
    const counts = [0, 0, 0];
    for (let id = 0; id < 30_000; id++) counts[shardOf(id, 3)]!++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(300);
    expect(shardOf(Number.MAX_SAFE_INTEGER, 7)).toBeLessThan(7);
  });

  it('keeps rows dense through upserts and removals that span storage segments', async () => {
    const n = 70_000; // more than one 65 536-row segment in a single shard
    const d = 4;
    const v = new Float32Array(n * d);
    for (let i = 0; i < n; i++) v.set([Math.cos(i), Math.sin(i), (i % 7) / 7, 1], i * d);
    const idx = await ExactIndex.create(d, 'l2', { threads: 1 }); // l2: each row is its own nearest
    open.push(idx);
    await idx.add(ids(n), v);
    expect(await idx.remove(ids(n / 2, (i) => i * 2))).toBe(n / 2); // every even id
    expect(idx.size).toBe(n / 2);
    // The last rows moved into the holes: each odd id still finds itself.
    for (const id of [1, 33_333, 65_537, 69_999]) {
      const [r] = await idx.search(v.subarray(id * d, (id + 1) * d), 1);
      expect(r!.ids).toEqual([id]);
    }
    expect(await idx.contains(2)).toBe(false);
    expect(await idx.contains(69_999)).toBe(true);
    await idx.add([69_999], v.subarray(0, d)); // upsert in place
    expect(idx.size).toBe(n / 2);
    const [r] = await idx.search(v.subarray(0, d), 1);
    expect(r!.ids).toEqual([69_999]);
  });

  it('searches in worker threads: the event loop answers requests while a search is held in flight', async () => {
    const idx = await exact({ threads: 2 });
    const v = randomUnitVectors(100, D, 5);
    await idx.add(ids(100), v);
    const server = createServer((_req, res) => res.end('pong'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const release = await idx.suspend();
      let settled = false;
      const posted = idx.nextSearch();
      const search = idx.search(row(v, 7, D), 3).finally(() => (settled = true));
      await posted; // the query is in the (held) workers
      // The shard workers are held, so the search cannot finish before `release()`. If searching
      // blocked the main thread, this request could not be answered and the test would hang.
      const { port } = server.address() as AddressInfo;
      const body = await new Promise<string>((resolve, reject) => {
        get(`http://127.0.0.1:${port}/`, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve(text));
        }).on('error', reject);
      });
      expect(body).toBe('pong');
      expect(settled).toBe(false);
      await release();
      const [r] = await search;
      expect(r!.ids[0]).toBe(7);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('i8 scan with f32 re-ranking keeps recall@10 ≥ 0.99 and exact scores', async () => {
    const data = clusteredDataset(5000, 128, 100, 11);
    const f32 = await exact({}, 128);
    const i8 = await exact({ quantization: 'i8' }, 128);
    const keys = ids(5000);
    await f32.add(keys, data.base);
    await i8.add(keys, data.base);
    const truth = await f32.search(data.queries, 10);
    const got = await i8.search(data.queries, 10);
    expect(truth.map((r) => r.ids)).toEqual(exactTopK(data.base, data.queries, 128, 10).map((r) => r.ids));
    expect(recallAtK(got, truth, 10)).toBeGreaterThanOrEqual(0.99);
    // Returned scores are the f32 inner products, not the codes' approximations.
    for (let q = 0; q < got.length; q++) {
      const t = new Map(truth[q]!.ids.map((id, i) => [id, truth[q]!.scores[i]!]));
      got[q]!.ids.forEach((id, i) => {
        if (t.has(id)) expect(got[q]!.scores[i]).toBeCloseTo(t.get(id)!, 6);
      });
    }
    await expect(ExactIndex.create(8, 'l2', { quantization: 'i8' })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('loads with a different shard count (rows re-routed) and rejects rows stored in the wrong shard', async () => {
    const v = randomUnitVectors(500, D, 9);
    const keys = ids(500, (i) => 2 ** 40 + i * 3);
    const two = await exact({ threads: 2 });
    await two.add(keys, v);
    const out = await dir();
    await two.save(out);
    const before = await two.search(v.subarray(0, 20 * D), 5);
    const manifest = await readIndexManifest(out);
    expect(manifest.extra?.shards).toHaveLength(2);
    const three = (await exactBackend.load(out, { ...manifest, params: { ...manifest.params, threads: 3 } })) as ExactIndex;
    open.push(three);
    expect(three.size).toBe(500);
    expect(await three.search(v.subarray(0, 20 * D), 5)).toEqual(before);
    // Claim the blocks belong to shards in the other order: each worker finds foreign rows.
    const shards = manifest.extra!.shards as number[];
    const swapped = { ...manifest, extra: { ...manifest.extra, shards: [shards[1], shards[0]] } };
    if (shards[0] !== shards[1]) await expect(exactBackend.load(out, swapped)).rejects.toBeInstanceOf(IndexCorruptError);
  });

  it('rejects unknown parameters and calls after close', async () => {
    await expect(ExactIndex.create(8, 'cosine', { nlist: 4 })).rejects.toBeInstanceOf(InvalidArgumentError);
    const idx = await ExactIndex.create(8, 'cosine', { threads: 1 });
    await idx.add([1], new Float32Array(8).fill(0.5));
    const pending = idx.search(new Float32Array(8).fill(0.5), 1);
    await idx.close();
    // A search posted before close() still gets its answer.
    expect((await pending)[0]!.ids).toEqual([1]);
    await expect(idx.search(new Float32Array(8), 1)).rejects.toBeInstanceOf(ClosedError);
    await idx.close();
  });
});

describe('auto backend', () => {
  it('derives its threshold from the dimension unless given', () => {
    expect(autoThreshold(parseAutoParams({}), 512)).toBe(146_484);
    expect(autoThreshold(parseAutoParams({ threshold: 1000 }), 512)).toBe(1000);
    expect(() => parseAutoParams({ M: 4 })).toThrow(InvalidArgumentError);
  });

  it('searches exactly up to the threshold, then moves the vectors into HNSW without losing any', async () => {
    const n = 600;
    const v = randomUnitVectors(n, D, 21);
    const keys = ids(n, (i) => i + 100);
    const idx = await AutoIndex.create(D, 'cosine', { threshold: 250 });
    open.push(idx);
    await idx.add(keys.slice(0, 200), v.subarray(0, 200 * D));
    expect(idx.mode).toBe('exact');
    // cosine: the scan reads i8 codes and re-ranks with f32 (recall, not a guarantee); other metrics scan f32
    expect(idx.capabilities.exact).toBe(false);
    expect(idx.params).toEqual(expect.objectContaining({ threshold: 250 }));
    const ip = await AutoIndex.create(D, 'l2', { threshold: 250 });
    open.push(ip);
    await ip.add(keys.slice(0, 10), v.subarray(0, 10 * D));
    expect(ip.capabilities.exact).toBe(true);
    await idx.remove([100]);
    // A search posted before the switch is answered by the exact index.
    const before = idx.search(row(v, 5, D), 1);
    await idx.add(keys.slice(200), v.subarray(200 * D));
    expect((await before)[0]!.ids).toEqual([105]);
    expect(idx.mode).toBe('usearch');
    expect(idx.capabilities.exact).toBe(false);
    expect(idx.size).toBe(n - 1);
    // HNSW searches run in the graph's worker too: held there, one stays in flight while the
    // event loop turns.
    const release = await idx.suspend();
    const posted = idx.nextSearch();
    let settled = false;
    const held = idx.search(row(v, 9, D), 1).finally(() => (settled = true));
    await posted;
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    await release();
    expect((await held)[0]!.ids).toEqual([109]);
    const all = await idx.search(v.subarray(D), 1);
    expect(all.map((r) => r.ids[0])).toEqual(keys.slice(1));
    // Both modes survive save → load.
    const out = await dir();
    await idx.save(out);
    const manifest = await readIndexManifest(out);
    expect(manifest.backend).toBe('auto');
    expect(manifest.extra?.mode).toBe('usearch');
    const loaded = (await autoBackend.load(out, manifest)) as AutoIndex;
    open.push(loaded);
    expect(loaded.mode).toBe('usearch');
    expect(loaded.params).toEqual(idx.params);
    expect((await loaded.search(v.subarray(D), 1)).map((r) => r.ids[0])).toEqual(keys.slice(1));
  });

  it('rejects a manifest without a valid mode', async () => {
    const idx = await AutoIndex.create(D, 'cosine', {});
    open.push(idx);
    await idx.add([1, 2], randomUnitVectors(2, D, 1));
    const out = await dir();
    await idx.save(out);
    const manifest = await readIndexManifest(out);
    expect(manifest.extra?.mode).toBe('exact');
    await expect(autoBackend.load(out, { ...manifest, extra: { ...manifest.extra, mode: 'faiss' } })).rejects.toBeInstanceOf(IndexCorruptError);
    const loaded = (await autoBackend.load(out, manifest)) as AutoIndex;
    open.push(loaded);
    expect(loaded.mode).toBe('exact');
    expect(loaded.size).toBe(2);
  });
});
