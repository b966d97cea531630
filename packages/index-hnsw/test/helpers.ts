import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { IndexManifest } from '@pixsearch/core';

/** Seeded PRNG (mulberry32) in [0, 1), shared with core's datasets. */
import { mulberry32 as rng } from '@pixsearch/core/datasets';

export { rng };

/** `n` random L2-normalised rows of width `d`. */
export function unitVectors(n: number, d: number, seed = 1): Float32Array {
  const r = rng(seed);
  const v = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const x = r() * 2 - 1;
      v[i * d + j] = x;
      s += x * x;
    }
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < d; j++) v[i * d + j]! *= inv;
  }
  return v;
}

export function row(v: Float32Array, i: number, d: number): Float32Array {
  return v.slice(i * d, (i + 1) * d);
}

/** Exact top-k ids by inner product (brute force). */
export function exactTopK(base: Float32Array, ids: number[], query: Float32Array, d: number, k: number): number[] {
  const scores = ids.map((id, i) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += base[i * d + j]! * query[j]!;
    return { id, s };
  });
  return scores
    .sort((a, b) => b.s - a.s)
    .slice(0, k)
    .map((x) => x.id);
}

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pixsearch-hnsw-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function readManifest(dir: string): Promise<IndexManifest> {
  return JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as IndexManifest;
}

/** Path of the data file `name` of the index saved in `dir`. */
export async function dataFile(dir: string, name: string): Promise<string> {
  const m = await readManifest(dir);
  return path.join(dir, m.files[name]!.file);
}

/**
 * Replaces data file `name` with `bytes` (or truncates it to `truncateTo`) and, with
 * `fixManifest`, records the new size and SHA-256 in the manifest — so the damage reaches the
 * backend's own validation instead of stopping at the checksum.
 */
export async function damage(dir: string, name: string, change: { bytes?: Uint8Array; truncateTo?: number }, fixManifest: boolean): Promise<void> {
  const m = await readManifest(dir);
  const file = path.join(dir, m.files[name]!.file);
  if (change.bytes) await writeFile(file, change.bytes);
  if (change.truncateTo !== undefined) await truncate(file, change.truncateTo);
  if (fixManifest) {
    const buf = await readFile(file);
    m.files[name] = { ...m.files[name]!, bytes: buf.length, sha256: createHash('sha256').update(buf).digest('hex') };
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(m));
  }
}

/** Applies `edit` to the bytes of data file `name`, then fixes the manifest. */
export async function patch(dir: string, name: string, edit: (buf: Buffer) => void): Promise<void> {
  const buf = await readFile(await dataFile(dir, name));
  edit(buf);
  await damage(dir, name, { bytes: buf }, true);
}

/** Deterministic garbage. */
export function garbage(n: number, seed = 99): Uint8Array {
  const r = rng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
}
