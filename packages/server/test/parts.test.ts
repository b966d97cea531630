// The server's own parts: the concurrency limiter, the thumbnail cache,
// the SSE subscription queue, ETag matching and token comparison.
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageRecord } from '@pixsearch/core/engine';
import { Limiter, OverloadedError } from '../src/limiter.js';
import { etagMatches } from '../src/routes/images.js';
import { generateToken, tokenMatches } from '../src/security.js';
import { StatsCache } from '../src/stats-cache.js';
import { SyncSubscription } from '../src/sync-controller.js';
import type { EngineLike } from '../src/engine-like.js';
import { ThumbnailCache, contentVersion } from '../src/thumbnails.js';
import { drawTestImage } from '@pixsearch/core/testing';

describe('Limiter', () => {
  const deferred = () => {
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((a, b) => {
      resolve = a;
      reject = b;
    });
    return { promise, resolve, reject };
  };

  it('runs at most `concurrency` tasks, in FIFO order, and rejects beyond the queue', async () => {
    const limiter = new Limiter(2, 2, 'jobs');
    const gates = Array.from({ length: 4 }, deferred);
    const started: number[] = [];
    let running = 0;
    let peak = 0;
    const runs = gates.map((g, i) =>
      limiter.run(async () => {
        started.push(i);
        running++;
        peak = Math.max(peak, running);
        await g.promise;
        running--;
        return i;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1]);
    expect(limiter.active).toBe(2);
    expect(limiter.queued).toBe(2);
    await expect(limiter.run(async () => 99)).rejects.toBeInstanceOf(OverloadedError);
    gates[1]!.resolve();
    await runs[1];
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]);
    gates[0]!.resolve();
    gates[2]!.resolve();
    gates[3]!.resolve();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
    expect(peak).toBe(2);
    expect(limiter.active).toBe(0);
  });

  it('drops a waiting task whose signal aborts, without running it', async () => {
    const limiter = new Limiter(1, 4, 'jobs');
    const gate = deferred();
    const ran: string[] = [];
    const first = limiter.run(async () => {
      ran.push('first');
      await gate.promise;
    });
    const gone = new AbortController();
    const dropped = limiter.run(async () => void ran.push('dropped'), gone.signal);
    const kept = limiter.run(async () => void ran.push('kept'));
    expect(limiter.queued).toBe(2);
    gone.abort();
    await expect(dropped).rejects.toMatchObject({ code: 'ABORTED' });
    expect(limiter.queued).toBe(1);
    await expect(limiter.run(async () => 1, AbortSignal.abort())).rejects.toMatchObject({ code: 'ABORTED' });
    gate.resolve();
    await Promise.all([first, kept]);
    expect(ran).toEqual(['first', 'kept']);
    expect(limiter.active).toBe(0);
  });

  it('frees the slot when a task fails', async () => {
    const limiter = new Limiter(1, 0);
    await expect(limiter.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await limiter.run(async () => 'next')).toBe('next');
    expect(limiter.active).toBe(0);
  });

  it('validates its settings', () => {
    expect(() => new Limiter(0, 1)).toThrow(RangeError);
    expect(() => new Limiter(1, -1)).toThrow(RangeError);
    expect(() => new Limiter(1.5, 1)).toThrow(RangeError);
  });
});

describe('ThumbnailCache', () => {
  let dir: string;
  let record: ImageRecord;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pixsearch-thumbs-'));
    const file = path.join(dir, 'photo.jpg');
    const bytes = await drawTestImage(7, { width: 640, height: 480, format: 'jpeg' });
    await writeFile(file, bytes);
    const st = await stat(file);
    record = {
      id: 1,
      root: dir,
      path: 'photo.jpg',
      absPath: file,
      size: st.size,
      mtimeMs: st.mtimeMs,
      hash: 'ab'.repeat(32),
      width: 640,
      height: 480,
      format: 'jpeg',
      bytes: st.size,
      takenAt: null,
      dateSource: null,
      camera: null,
      make: null,
      model: null,
      lens: null,
      latitude: null,
      longitude: null,
      orientation: null,
      status: 'indexed',
      reason: null,
    };
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('generates a thumbnail once for concurrent requests and writes it atomically', async () => {
    const cacheDir = path.join(dir, 'cache-a');
    const cache = new ThumbnailCache(cacheDir);
    const results = await Promise.all(Array.from({ length: 8 }, () => cache.get(record, 128)));
    expect(cache.generated).toBe(1);
    for (const r of results) expect(r.bytes.equals(results[0]!.bytes)).toBe(true);
    expect(results[0]!.etag).toBe(`"t128-${'ab'.repeat(16)}"`);
    const meta = await sharp(results[0]!.bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 128, 96]);
    const files = await readdir(cacheDir, { recursive: true });
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(files).toContain(path.join('128', 'ab', `${'ab'.repeat(16)}.webp`));

    // Another size is another generation; a second cache on the same folder reads from disk.
    await cache.get(record, 256);
    expect(cache.generated).toBe(2);
    const again = new ThumbnailCache(cacheDir);
    const fromDisk = await again.get(record, 128);
    expect(again.generated).toBe(0);
    expect(fromDisk.bytes.equals(results[0]!.bytes)).toBe(true);
  });

  it('resolves its folder lazily, once', async () => {
    let calls = 0;
    const cache = new ThumbnailCache(async () => {
      calls++;
      return path.join(dir, 'cache-lazy');
    });
    expect(calls).toBe(0);
    await cache.get(record, 128);
    await cache.get(record, 128);
    expect(calls).toBe(1);
  });

  it('reports a missing original as NotFound and an undecodable one as ImageDecode', async () => {
    const cache = new ThumbnailCache(path.join(dir, 'cache-b'));
    await expect(cache.get({ ...record, absPath: path.join(dir, 'gone.jpg'), hash: 'cd'.repeat(32) }, 128)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const junk = path.join(dir, 'junk.jpg');
    await writeFile(junk, 'not an image');
    await expect(cache.get({ ...record, absPath: junk, hash: 'ef'.repeat(32) }, 128)).rejects.toMatchObject({ code: 'IMAGE_DECODE' });
    expect(cache.generated).toBe(0);
  });

  it('warms result ids once: repeated ids cost no catalog lookup and no second generation', async () => {
    const cacheDir = path.join(dir, 'cache-warm');
    const cache = new ThumbnailCache(cacheDir);
    const looked: number[] = [];
    const lookup = (id: number): ImageRecord | undefined => {
      looked.push(id);
      return id === 1 ? record : id === 2 ? { ...record, id: 2, absPath: path.join(dir, 'gone.jpg'), hash: '12'.repeat(32) } : undefined;
    };
    cache.warmIds([1, 2, 3], lookup);
    await cache.close(); // waits for the generations under way
    expect(cache.generated).toBe(1); // id 2's original is missing, id 3 is not in the catalog
    const reopened = new ThumbnailCache(cacheDir);
    await reopened.get(record, 512);
    expect(reopened.generated).toBe(0);
    // The same ids again (the next keystroke's page): remembered, nothing looked up.
    const again = new ThumbnailCache(cacheDir);
    again.warmIds([1, 2, 3], lookup);
    again.warmIds([3, 2, 1, 4], lookup);
    expect(looked).toEqual([1, 2, 3, 1, 2, 3, 4]);
    await again.close();
    expect(again.generated).toBe(0);
  });

  it('derives a version from path, size and mtime when the catalog hash is not hex', () => {
    const a = contentVersion({ ...record, hash: '' });
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(contentVersion({ ...record, hash: '', mtimeMs: record.mtimeMs + 1 })).not.toBe(a);
    expect(contentVersion({ ...record, hash: '../../etc/passwd' })).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('SyncSubscription', () => {
  it('coalesces progress so a slow reader holds only the latest', async () => {
    const sub = new SyncSubscription(() => undefined);
    for (let i = 0; i < 1000; i++) sub.push({ event: 'progress', data: { done: i } });
    sub.push({ event: 'done', data: { added: 1 } });
    expect(await sub.next(10)).toEqual({ event: 'progress', data: { done: 999 } });
    expect(await sub.next(10)).toEqual({ event: 'done', data: { added: 1 } });
    expect(await sub.next(10)).toBeUndefined();
  });

  it('wakes a waiting reader and ends on close', async () => {
    let closed = 0;
    const sub = new SyncSubscription(() => closed++);
    const waiting = sub.next(10_000);
    sub.push({ event: 'warning', data: { message: 'x' } });
    expect(await waiting).toEqual({ event: 'warning', data: { message: 'x' } });
    const pending = sub.next(10_000);
    sub.close();
    sub.close();
    expect(await pending).toBeUndefined();
    expect(closed).toBe(1);
    sub.push({ event: 'done', data: {} });
    expect(await sub.next(1)).toBeUndefined();
  });
});

describe('ETags and tokens', () => {
  it('matches If-None-Match lists, weak tags and *', () => {
    expect(etagMatches('"a"', '"a"')).toBe(true);
    expect(etagMatches('W/"a"', '"a"')).toBe(true);
    expect(etagMatches('"x", "a"', '"a"')).toBe(true);
    expect(etagMatches('*', '"a"')).toBe(true);
    expect(etagMatches('"b"', '"a"')).toBe(false);
    expect(etagMatches(undefined, '"a"')).toBe(false);
    expect(etagMatches('a', '"a"')).toBe(false);
  });

  it('compares tokens exactly', () => {
    const t = generateToken();
    expect(t).not.toBe(generateToken());
    expect(tokenMatches(t, t)).toBe(true);
    expect(tokenMatches(`${t} `, t)).toBe(false);
    expect(tokenMatches(t.slice(1), t)).toBe(false);
    expect(tokenMatches(undefined, t)).toBe(false);
    expect(tokenMatches('', t)).toBe(false);
  });
});

describe('StatsCache', () => {
  it('shares one stats() call, reuses it for a while, and refreshes after invalidate or an error', async () => {
    let calls = 0;
    let fail = false;
    const engine = {
      stats: async () => {
        calls++;
        if (fail) throw new Error('disk gone');
        return { indexSize: calls } as unknown as Awaited<ReturnType<EngineLike['stats']>>;
      },
    } as unknown as EngineLike;
    const cache = new StatsCache(engine, 60_000);
    const [a, b] = await Promise.all([cache.get(), cache.get()]);
    expect(calls).toBe(1);
    expect(a).toBe(b);
    await cache.get();
    expect(calls).toBe(1);
    cache.invalidate();
    expect((await cache.get()).indexSize).toBe(2);
    cache.invalidate();
    fail = true;
    await expect(cache.get()).rejects.toThrow('disk gone');
    fail = false;
    expect((await cache.get()).indexSize).toBe(4);
    const short = new StatsCache(engine, 0);
    await short.get();
    await short.get();
    expect(calls).toBe(6);
  });
});
