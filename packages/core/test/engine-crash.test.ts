// Crash safety and data-directory locking, with real child processes killed with SIGKILL.
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DataDirInUseError, ReadOnlyError } from '@pixsearch/core';
import { SearchEngine } from '@pixsearch/core/engine';
import { clipEmbedder, registerFaiss, removeDir, spawnChild, SpyEmbedder, tempDir, tinyBundle } from './engine-helpers.js';
import { writeTestImage, writeTestImages } from '@pixsearch/core/testing';

let dir: string;
let bundle: string;

beforeAll(async () => {
  await registerFaiss();
  dir = await tempDir();
  bundle = await tinyBundle();
});
afterAll(async () => {
  await removeDir(dir);
});

/** Indexed rows read straight from the catalog file: relPath → count (duplicates would show > 1). */
function indexedRows(dataDir: string): { paths: string[]; withEmbedding: number } {
  const db = new Database(path.join(dataDir, 'catalog.db'), { readonly: true });
  try {
    const rows = db
      .prepare("SELECT i.rel_path AS p, e.id IS NOT NULL AS e FROM images i LEFT JOIN embeddings e ON e.id = i.id WHERE i.status = 'indexed' ORDER BY i.rel_path")
      .all() as { p: string; e: number }[];
    // No embedding without its indexed row either.
    const orphans = db.prepare("SELECT count(*) AS n FROM embeddings e LEFT JOIN images i ON i.id = e.id WHERE i.id IS NULL OR i.status != 'indexed'").get() as { n: number };
    expect(orphans.n).toBe(0);
    return { paths: rows.map((r) => r.p), withEmbedding: rows.filter((r) => r.e === 1).length };
  } finally {
    db.close();
  }
}

/** Syncs in-process with a spy on the real embedder; checks the exact set, the index and that no warning-free open needs a rebuild. */
async function finishAndCheck(dataDir: string, lib: string, expected: string[]): Promise<{ embedded: number; warnings: string[] }> {
  const spy = new SpyEmbedder(await clipEmbedder(bundle));
  const warnings: string[] = [];
  try {
    const engine = await SearchEngine.open({ dataDir, embedder: spy, roots: [lib] });
    engine.on('warning', (w) => warnings.push(w));
    const summary = await engine.sync();
    expect(summary.aborted).toBe(false);
    const stats = await engine.stats();
    expect(stats.images.indexed).toBe(expected.length);
    expect(stats.indexSize).toBe(expected.length);
    await engine.close();
  } finally {
    await spy.close();
  }
  const rows = indexedRows(dataDir);
  expect(rows.paths).toEqual([...expected].sort());
  expect(rows.withEmbedding).toBe(expected.length);
  // The saved index agrees with the catalog: a read-only open uses it without a rebuild warning.
  const reader = await SearchEngine.open({ dataDir, readOnly: true });
  const readerWarnings: string[] = [];
  reader.on('warning', (w) => readerWarnings.push(w));
  await new Promise((r) => setImmediate(r));
  expect(readerWarnings).toEqual([]);
  expect((await reader.stats()).indexSize).toBe(expected.length);
  const ids = new Set<number>();
  const hit = await reader.search('anything', { k: 1000, threshold: -1 });
  for (const h of hit.results) ids.add(h.id);
  expect(ids.size).toBe(expected.length);
  await reader.close();
  return { embedded: spy.imagesEmbedded, warnings };
}

describe('kill -9 during sync', () => {
  test('after the first committed embedding batch: the rerun embeds exactly the rest', async () => {
    const lib = path.join(dir, 'lib-a');
    const dataDir = path.join(dir, 'data-a');
    // 128 images in chunks of 16 (batch 4 × 4): the kill lands long before the last chunk.
    const files = await writeTestImages(lib, 128, { sub: 'photos' });
    // Frozen as the second embedder call starts: exactly the first chunk is committed.
    const child = await spawnChild(['sync', dataDir, bundle, '4', lib], { env: { FREEZE_AT: 'embed-call:2' } });
    await child.waitFor((l) => 'frozen' in l);
    child.kill('SIGKILL');
    const { signal } = await child.exited;
    expect(signal).toBe('SIGKILL');
    expect(child.lines.some((l) => 'summary' in l)).toBe(false);

    const committed = indexedRows(dataDir).paths.length;
    expect(committed).toBe(16);
    // A reader sees exactly what was committed: the saved index is caught up in memory from the catalog.
    const reader = await SearchEngine.open({ dataDir, readOnly: true, model: bundle });
    const seen = await reader.search('a photo', { k: 1000, threshold: -1 });
    expect(seen.results.map((r) => r.path).sort()).toEqual(indexedRows(dataDir).paths);
    await reader.close();
    const { embedded, warnings } = await finishAndCheck(dataDir, lib, files);
    // Nothing committed is embedded twice, nothing is lost.
    expect(embedded).toBe(files.length - committed);
    // The index saved before the kill was caught up from the stored embeddings, not rebuilt.
    expect(warnings.some((w) => /changes behind the catalog .*caught up from the stored embeddings/.test(w))).toBe(true);
  });

  test('at every phase of a sync, with the library changing between runs', async () => {
    const lib = path.join(dir, 'lib-b');
    const dataDir = path.join(dir, 'data-b');
    let expected = await writeTestImages(lib, 64);
    let seed = 1000;
    // Killed at exact points spread over a sync's lifetime (never at a moment chosen by a clock):
    // while scanning, before hashing, between two committed chunks, after the last chunk (before the
    // final index save), and after everything.
    const points = ['scan', 'hash', 'embed-call:2', 'embed:end', 'done'];
    for (const point of points) {
      const child = await spawnChild(['sync', dataDir, bundle, '4', lib], { env: { FREEZE_AT: point } });
      expect((await child.waitFor((l) => 'frozen' in l)).frozen).toBe(point);
      child.kill('SIGKILL');
      expect((await child.exited).signal).toBe('SIGKILL');
      expect(child.lines.some((l) => 'summary' in l)).toBe(false);
      // Change the library: one new file, one renamed, one deleted, one rewritten.
      const added = `new-${seed}.png`;
      await writeTestImage(path.join(lib, added), seed++);
      const victim = expected[0]!;
      const moved = `moved-${seed}.jpg`;
      await rename(path.join(lib, victim), path.join(lib, moved));
      const gone = expected[1]!;
      await rm(path.join(lib, gone));
      await writeTestImage(path.join(lib, expected[2]!), seed++);
      expected = [...expected.slice(2), added, moved];
    }
    await finishAndCheck(dataDir, lib, expected);
  });
});

describe('data directory locking', () => {
  test('a second writer gets DataDirInUseError naming the pid; readers read; the lock dies with its holder', async () => {
    const lib = path.join(dir, 'lib-c');
    const dataDir = path.join(dir, 'data-c');
    await writeTestImages(lib, 6);
    const spy = new SpyEmbedder(await clipEmbedder(bundle));
    const first = await SearchEngine.open({ dataDir, embedder: spy, roots: [lib] });
    await first.sync();
    await first.close();

    const holder = await spawnChild(['hold', dataDir]);
    await holder.waitFor((l) => 'ready' in l);
    let err: unknown;
    try {
      await SearchEngine.open({ dataDir, embedder: spy });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DataDirInUseError);
    expect((err as DataDirInUseError).pid).toBe(holder.pid);

    const reader = await SearchEngine.open({ dataDir, readOnly: true, embedder: spy });
    const res = await reader.search('a photo', { threshold: -1 });
    expect(res.results.length).toBe(6);
    await expect(reader.sync()).rejects.toBeInstanceOf(ReadOnlyError);
    await reader.close();

    holder.kill('SIGKILL');
    await holder.exited;
    // No stale-lock cleanup needed: the kernel released the lock with the process.
    const writer = await SearchEngine.open({ dataDir, embedder: spy });
    await expect(SearchEngine.open({ dataDir, embedder: spy })).rejects.toBeInstanceOf(DataDirInUseError);
    await writer.close();
    await spy.close();
  });
});
