// Conformance topic: persistence — save/load of files indexes (and their damage), reopening remote
// indexes by name, ids beyond 32 bits through both.
import { cp, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import { IndexCorruptError } from '../../errors.js';
import { MANIFEST_FILE, sha256File } from '../../index-files.js';
import { loadIndex } from '../../index-registry.js';
import type { IndexManifest, Persistence, VectorIndex } from '../../vector-index.js';
import { asFiles, contains, requires, type Suite } from './suite.js';

export function persistenceCases(s: Suite): void {
  const { dim } = s;
  const load = s.options.load ?? loadIndex;
  const reopenable = (_caps: unknown, persistence: Persistence): string | undefined =>
    persistence === 'files' || s.options.reopen ? undefined : 'a remote backend that gave the suite no reopen()';

  /** The same index after a round trip: saved and loaded (files), or closed and reopened by name (remote). */
  const roundTrip = async (idx: VectorIndex, label: string): Promise<VectorIndex> => {
    if (idx.persistence === 'files') {
      const out = path.join(s.dir(), label);
      await idx.save(out);
      return s.track(await load(out));
    }
    await idx.flush();
    await idx.close();
    return s.track(await s.options.reopen!(idx));
  };

  s.test(
    'save-load',
    'a saved (files) or reopened (remote) index gives identical results and params',
    async () => {
      const idx = await s.make();
      const { base, queries } = s.small();
      const ids = Array.from({ length: 300 }, (_, i) => 1000 + i);
      await idx.add(ids, base);
      await idx.remove([1000, 1001]);
      const before = await idx.search(queries, 10);
      const { backend, params } = idx;
      const loaded = await roundTrip(idx, 'save-load');
      expect(loaded.backend).toBe(backend);
      expect(loaded.size).toBe(298);
      expect(loaded.params).toEqual(params);
      const after = await loaded.search(queries, 10);
      expect(after.map((r) => r.ids)).toEqual(before.map((r) => r.ids));
      for (let q = 0; q < before.length; q++) {
        for (let i = 0; i < before[q]!.scores.length; i++) expect(after[q]!.scores[i]!).toBeCloseTo(before[q]!.scores[i]!, 4);
      }
      // A loaded index stays writable.
      await loaded.add([5], base.subarray(0, dim));
      expect(loaded.size).toBe(299);
      if (loaded.persistence === 'files') {
        // The manifest says what was saved, and saving twice keeps one generation of files.
        const out = path.join(s.dir(), 'save-load');
        const manifest = JSON.parse(await readFile(path.join(out, MANIFEST_FILE), 'utf8')) as IndexManifest;
        expect(manifest).toMatchObject({ count: 298, dimension: dim, metric: 'cosine' });
        await loaded.save(out);
        await loaded.save(out);
        const files = (await readdir(out)).filter((f) => !f.startsWith('.'));
        expect(files.length).toBe(Object.keys(manifest.files).length + 1);
      }
    },
    { requires: reopenable },
  );

  s.test(
    'corrupt-files',
    'truncated or garbage index files give IndexCorruptError, never a crash',
    async () => {
      const idx = asFiles(await s.make());
      await idx.add(
        Array.from({ length: 300 }, (_, i) => i),
        s.small().base,
      );
      const dir = s.dir();
      const out = path.join(dir, 'corrupt-src');
      await idx.save(out);
      const manifest = JSON.parse(await readFile(path.join(out, MANIFEST_FILE), 'utf8')) as IndexManifest;
      const variants: [string, (file: string, bytes: number) => Promise<void>][] = [
        ['truncated', (file, bytes) => truncate(file, Math.floor(bytes / 2))],
        ['truncated-to-8', (file) => truncate(file, 8)],
        ['garbage', (file, bytes) => writeFile(file, garbage(bytes))],
        ['empty', (file) => writeFile(file, Buffer.alloc(0))],
      ];
      for (const name of Object.keys(manifest.files)) {
        for (const [label, damage] of variants) {
          for (const fixManifest of [false, true]) {
            const target = path.join(dir, `corrupt-${name}-${label}-${fixManifest}`);
            await cp(out, target, { recursive: true });
            const entry = manifest.files[name]!;
            const file = path.join(target, entry.file);
            await damage(file, entry.bytes);
            if (fixManifest) {
              // Make the manifest agree with the damaged file, so the backend itself must notice.
              const m = structuredClone(manifest);
              m.files[name] = { ...entry, bytes: (await stat(file)).size, sha256: await sha256File(file) };
              await writeFile(path.join(target, MANIFEST_FILE), JSON.stringify(m));
            }
            await expect(load(target), `${name} ${label} manifest-fixed=${fixManifest}`).rejects.toBeInstanceOf(IndexCorruptError);
          }
        }
      }
      const noManifest = path.join(dir, 'corrupt-no-manifest');
      await cp(out, noManifest, { recursive: true });
      await writeFile(path.join(noManifest, MANIFEST_FILE), '{"format":"nope"');
      await expect(load(noManifest)).rejects.toBeInstanceOf(IndexCorruptError);
      await expect(load(path.join(dir, 'does-not-exist'))).rejects.toBeInstanceOf(IndexCorruptError);
    },
    { timeout: 120_000, requires: requires.files },
  );

  s.test(
    'large-ids',
    'ids ≥ 2^32 up to 2^53−1 round-trip through add, search, save/reopen and remove',
    async () => {
      const idx = await s.make();
      const { base } = s.small();
      const ids = [2 ** 32, 2 ** 32 + 7, 2 ** 40 + 123, Number.MAX_SAFE_INTEGER, 0, 2 ** 31 - 1];
      await idx.add(ids, base.subarray(0, ids.length * dim));
      for (let i = 0; i < ids.length; i++) {
        const [r] = await idx.search(base.subarray(i * dim, (i + 1) * dim), 1);
        expect(r!.ids).toEqual([ids[i]]);
      }
      expect(await contains(idx, 2 ** 32 + 7)).toBe(true);
      expect(await contains(idx, 7)).toBe(false);
      const loaded = await roundTrip(idx, 'large-ids');
      const res = await loaded.search(base.subarray(0, ids.length * dim), ids.length);
      for (let i = 0; i < ids.length; i++) expect(res[i]!.ids[0]).toBe(ids[i]);
      if (loaded.capabilities.remove) {
        expect(await loaded.remove([Number.MAX_SAFE_INTEGER])).toBe(1);
        expect(await contains(loaded, Number.MAX_SAFE_INTEGER)).toBe(false);
      }
    },
    { requires: reopenable },
  );
}

function garbage(bytes: number): Buffer {
  const b = Buffer.alloc(Math.max(bytes, 64));
  let x = 12345;
  for (let i = 0; i < b.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}
