import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IndexCorruptError, indexDataFile, MANIFEST_FILE, readIndexManifest, saveIndexDir, writeFileAtomic } from '../src/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pixsearch-files-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const base = { backend: 'faiss-flat' as const, library: 'test@1', dimension: 4, metric: 'cosine' as const, params: { a: 1 }, count: 2 };

describe('saveIndexDir / readIndexManifest / indexDataFile', () => {
  it('writes data files and a manifest naming their sizes and hashes', async () => {
    const m = await saveIndexDir(dir, base, { vectors: (tmp) => writeFile(tmp, 'hello'), ids: (tmp) => writeFile(tmp, 'world!') });
    const read = await readIndexManifest(dir);
    expect(read).toEqual(m);
    expect(read.files['vectors']!.bytes).toBe(5);
    expect(await readFile(await indexDataFile(dir, read, 'ids'), 'utf8')).toBe('world!');
  });

  it('keeps exactly one generation of data files and no temp files', async () => {
    await saveIndexDir(dir, base, { v: (tmp) => writeFile(tmp, 'one') });
    const m2 = await saveIndexDir(dir, base, { v: (tmp) => writeFile(tmp, 'two') });
    const entries = (await readdir(dir)).sort();
    expect(entries).toEqual([MANIFEST_FILE, m2.files['v']!.file].sort());
  });

  it('leaves the previous index intact when a writer fails midway', async () => {
    const m1 = await saveIndexDir(dir, base, { v: (tmp) => writeFile(tmp, 'good') });
    await expect(
      saveIndexDir(dir, base, {
        v: (tmp) => writeFile(tmp, 'partial'),
        w: () => {
          throw new Error('disk full');
        },
      }),
    ).rejects.toThrow('disk full');
    const read = await readIndexManifest(dir);
    expect(read.files).toEqual(m1.files);
    expect(await readFile(await indexDataFile(dir, read, 'v'), 'utf8')).toBe('good');
  });

  it('detects size and checksum mismatches and bad manifests', async () => {
    const m = await saveIndexDir(dir, base, { v: (tmp) => writeFile(tmp, 'abcdef') });
    const file = path.join(dir, m.files['v']!.file);
    await writeFile(file, 'abcdeX');
    await expect(indexDataFile(dir, m, 'v')).rejects.toBeInstanceOf(IndexCorruptError);
    await expect(indexDataFile(dir, m, 'v', false)).resolves.toBe(file);
    await writeFile(file, 'abc');
    await expect(indexDataFile(dir, m, 'v', false)).rejects.toBeInstanceOf(IndexCorruptError);
    await expect(indexDataFile(dir, m, 'missing')).rejects.toBeInstanceOf(IndexCorruptError);
    await expect(indexDataFile(dir, { ...m, files: { v: { ...m.files['v']!, file: '../etc/passwd' } } }, 'v')).rejects.toBeInstanceOf(IndexCorruptError);
    await writeFile(path.join(dir, MANIFEST_FILE), '{"format":"pixsearch-index","version":1}');
    await expect(readIndexManifest(dir)).rejects.toBeInstanceOf(IndexCorruptError);
    await writeFile(path.join(dir, MANIFEST_FILE), 'not json');
    await expect(readIndexManifest(dir)).rejects.toBeInstanceOf(IndexCorruptError);
  });

  it('writeFileAtomic replaces content without leaving temp files', async () => {
    const target = path.join(dir, 'x.json');
    await writeFileAtomic(target, 'a');
    await writeFileAtomic(target, 'b');
    expect(await readFile(target, 'utf8')).toBe('b');
    expect(await readdir(dir)).toEqual(['x.json']);
  });
});
