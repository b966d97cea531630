import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic, fsyncDir } from './atomic-write.js';
import { IndexCorruptError } from './errors.js';
import type { IndexManifest, Metric } from './vector-index.js';

/** Name of the manifest inside an index directory. */
export const MANIFEST_FILE = 'manifest.json';

/** SHA-256 (hex) of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Writes one data file into `tmpPath`; the helper renames it into place. */
export type DataFileWriter = (tmpPath: string) => Promise<void> | void;

/**
 * Saves an index directory atomically. Each data file is written under a fresh generation name
 * (`<name>.<gen>.bin`), then `manifest.json` — which names those files with their sizes and
 * SHA-256 — is replaced atomically, then older generations are deleted. A crash at any point
 * leaves either the previous complete index or the new one.
 */
export async function saveIndexDir(
  dir: string,
  base: {
    backend: string;
    library: string;
    dimension: number;
    metric: Metric;
    params: Record<string, number | string>;
    count: number;
    extra?: Record<string, unknown>;
  },
  writers: Record<string, DataFileWriter>,
): Promise<IndexManifest> {
  await mkdir(dir, { recursive: true });
  const gen = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const files: IndexManifest['files'] = {};
  for (const [name, write] of Object.entries(writers)) {
    const file = `${name}.${gen}.bin`;
    const tmp = path.join(dir, `.${file}.tmp`);
    await write(tmp);
    const { size } = await stat(tmp);
    const sha256 = await sha256File(tmp);
    await rename(tmp, path.join(dir, file));
    files[name] = { file, bytes: size, sha256 };
  }
  await fsyncDir(dir);
  const manifest: IndexManifest = {
    format: 'pixsearch-index',
    version: 1,
    ...base,
    files,
    savedAt: new Date().toISOString(),
  };
  await writeFileAtomic(path.join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
  // Garbage-collect data files of older generations and stale temp files.
  const keep = new Set(Object.values(files).map((f) => f.file));
  keep.add(MANIFEST_FILE);
  for (const entry of await readdir(dir)) {
    if (!keep.has(entry) && (/\.[0-9a-z]+\.bin$/.test(entry) || entry.endsWith('.tmp'))) {
      await rm(path.join(dir, entry), { force: true });
    }
  }
  return manifest;
}

/** Reads and validates `dir/manifest.json` (shape only). Throws `IndexCorruptError`. */
export async function readIndexManifest(dir: string): Promise<IndexManifest> {
  let raw: string;
  try {
    raw = await readFile(path.join(dir, MANIFEST_FILE), 'utf8');
  } catch (cause) {
    throw new IndexCorruptError(dir, `cannot read ${MANIFEST_FILE}`, { cause });
  }
  let m: unknown;
  try {
    m = JSON.parse(raw);
  } catch (cause) {
    throw new IndexCorruptError(dir, `${MANIFEST_FILE} is not valid JSON`, { cause });
  }
  const o = m as Partial<IndexManifest>;
  if (
    !o ||
    o.format !== 'pixsearch-index' ||
    o.version !== 1 ||
    typeof o.backend !== 'string' ||
    !Number.isInteger(o.dimension) ||
    (o.dimension ?? 0) < 1 ||
    (o.metric !== 'cosine' && o.metric !== 'l2') ||
    !Number.isInteger(o.count) ||
    typeof o.files !== 'object' ||
    o.files === null ||
    typeof o.params !== 'object'
  ) {
    throw new IndexCorruptError(dir, `${MANIFEST_FILE} is not a pixsearch index manifest`);
  }
  return o as IndexManifest;
}

/**
 * Resolves a data file named in the manifest to its path after checking its size and
 * SHA-256 (pass `verifyHash: false` to check the size only). Throws `IndexCorruptError`.
 */
export async function indexDataFile(dir: string, manifest: IndexManifest, name: string, verifyHash = true): Promise<string> {
  const entry = manifest.files[name];
  if (!entry || typeof entry.file !== 'string' || entry.file.includes('/') || entry.file.includes('\\')) {
    throw new IndexCorruptError(dir, `manifest names no data file "${name}"`);
  }
  const file = path.join(dir, entry.file);
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (cause) {
    throw new IndexCorruptError(dir, `data file ${entry.file} is missing`, { cause });
  }
  if (size !== entry.bytes) throw new IndexCorruptError(dir, `data file ${entry.file} has ${size} bytes, expected ${entry.bytes}`);
  if (verifyHash && (await sha256File(file)) !== entry.sha256) {
    throw new IndexCorruptError(dir, `data file ${entry.file} fails its checksum`);
  }
  return file;
}
