import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { IndexManifest } from '@pixsearch/core';
import { mulberry32 } from '@pixsearch/core/datasets';

export function row(v: Float32Array, i: number, d: number): Float32Array {
  return v.slice(i * d, (i + 1) * d);
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
  const r = mulberry32(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
}
