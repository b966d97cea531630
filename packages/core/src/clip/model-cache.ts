// Model resolution: a local bundle folder, or a Hugging Face hub id downloaded once into a cache
// folder. Downloads are resumable (a `.part` file continued with an HTTP Range request) and atomic
// (renamed into place only when complete and of the announced size), so a partial file is never
// mistaken for a complete one.
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fsyncDir } from '../atomic-write.js';
import { AbortedError, InvalidArgumentError, ModelBundleError, ModelDownloadError } from '../errors.js';
import { requiredFiles, type ModelVariant } from './bundle.js';

/** The default model: OpenAI CLIP ViT-B/32 in the Transformers.js ONNX layout. */
export const DEFAULT_MODEL = 'Xenova/clip-vit-base-patch32';
/** Default tower variants: fp32 vision (faithful image embeddings), quantized text (4× smaller, faster queries). */
export const DEFAULT_VARIANTS: Readonly<{ vision: ModelVariant; text: ModelVariant }> = { vision: 'fp32', text: 'quantized' };
/** Default hub address; override with `hubUrl` or `PIXSEARCH_HUB_URL`. */
export const DEFAULT_HUB_URL = 'https://huggingface.co';

/** Download progress of one file, bytes. `total` is undefined when the server does not say. */
export interface DownloadProgress {
  file: string;
  received: number;
  total: number | undefined;
}

export interface ResolveModelOptions {
  /** Cache folder (default {@link defaultCacheDir}). */
  cacheDir?: string;
  /** Bundle-relative files needed (default: those of {@link DEFAULT_VARIANTS}). */
  files?: string[];
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
  /** Hub base URL (default `PIXSEARCH_HUB_URL` or https://huggingface.co). */
  hubUrl?: string;
  /** Revision (branch, tag or commit) to download (default `main`). */
  revision?: string;
  /** Never touch the network: fail with the offline instructions when files are missing. */
  offline?: boolean;
}

/** `PIXSEARCH_CACHE`, else `$XDG_CACHE_HOME/pixsearch/models`, else `~/.cache/pixsearch/models`. */
export function defaultCacheDir(): string {
  if (process.env.PIXSEARCH_CACHE) return path.resolve(process.env.PIXSEARCH_CACHE);
  const xdg = process.env.XDG_CACHE_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache'), 'pixsearch', 'models');
}

const HUB_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** True for strings shaped like a hub id (`owner/name`) rather than a path. */
export function isHubId(s: string): boolean {
  return HUB_ID.test(s) && !s.includes('..');
}

/** Cache folder of a hub id: `<cacheDir>/<owner>/<name>`. */
export function cachedModelDir(id: string, cacheDir = defaultCacheDir()): string {
  if (!isHubId(id)) throw new InvalidArgumentError(`"${id}" is not a hub model id (owner/name)`);
  return path.join(cacheDir, ...id.split('/'));
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}
async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

function offlineError(id: string, folder: string, missing: string[], baseUrl: string, revision: string, cause?: unknown, why?: string): ModelDownloadError {
  const urls = missing.map((f) => `  ${baseUrl}/${id}/resolve/${revision}/${f}`).join('\n');
  return new ModelDownloadError(
    `model "${id}" is not in the cache and cannot be downloaded${why ? ` (${why})` : ''}. ` +
      `Put these files into ${folder}: ${missing.join(', ')}`,
    { cause, hint: `download them on a machine with internet access:\n${urls}\nand copy them into ${folder} (keeping the onnx/ subfolder), or pass a local bundle folder as the model` },
  );
}

/**
 * Resolves a model to a local bundle folder: an existing folder is returned as is; a hub id is
 * looked up in the cache and the missing `files` are downloaded. Throws ModelBundleError for a
 * path that does not exist, ModelDownloadError when the download fails (offline: the message
 * names the files and the folder to put them in).
 */
export async function resolveModel(idOrPath: string, options: ResolveModelOptions = {}): Promise<string> {
  if (!idOrPath) throw new InvalidArgumentError('model must be a folder or a hub id');
  const asPath = path.resolve(idOrPath.startsWith('~/') ? path.join(os.homedir(), idOrPath.slice(2)) : idOrPath);
  if (await isDir(asPath)) return asPath;
  if (!isHubId(idOrPath) || idOrPath.startsWith('.')) {
    throw new ModelBundleError(`model folder ${asPath} does not exist`, { hint: `pass an existing bundle folder or a hub id such as ${DEFAULT_MODEL}` });
  }
  return pullModel(idOrPath, options);
}

/** Downloads (or completes) a hub model in the cache; returns its folder. */
export async function pullModel(id: string, options: ResolveModelOptions = {}): Promise<string> {
  const folder = cachedModelDir(id, options.cacheDir ?? defaultCacheDir());
  const files = options.files ?? requiredFiles(DEFAULT_VARIANTS);
  const baseUrl = (options.hubUrl ?? process.env.PIXSEARCH_HUB_URL ?? DEFAULT_HUB_URL).replace(/\/+$/, '');
  const revision = options.revision ?? 'main';
  const missing: string[] = [];
  for (const f of files) if (!(await isFile(path.join(folder, f)))) missing.push(f);
  if (missing.length === 0) return folder;
  if (options.offline || process.env.PIXSEARCH_OFFLINE === '1' || process.env.HF_HUB_OFFLINE === '1') {
    throw offlineError(id, folder, missing, baseUrl, revision, undefined, 'offline mode');
  }
  for (const f of missing) {
    const url = `${baseUrl}/${id}/resolve/${encodeURIComponent(revision)}/${f}`;
    try {
      await downloadFile(url, path.join(folder, f), { signal: options.signal, onProgress: (received, total) => options.onProgress?.({ file: f, received, total }) });
    } catch (err) {
      if (err instanceof AbortedError) throw err;
      if (err instanceof HttpStatusError) {
        if (err.status === 404) {
          throw new ModelDownloadError(`model "${id}" has no file ${f} on the hub (HTTP 404 for ${url})`, {
            cause: err,
            hint: `check the model id and that it is a CLIP bundle in the Transformers.js ONNX layout (onnx/vision_model*.onnx, onnx/text_model*.onnx), or pick other variants`,
          });
        }
        if (err.status === 401 || err.status === 403) {
          throw new ModelDownloadError(`model "${id}": access denied for ${f} (HTTP ${err.status})`, { cause: err, hint: 'the repository may be private or gated; download it manually into the cache folder' });
        }
      }
      const still = [];
      for (const m of missing) if (!(await isFile(path.join(folder, m)))) still.push(m);
      throw offlineError(id, folder, still, baseUrl, revision, err, err instanceof Error ? err.message : String(err));
    }
  }
  return folder;
}

class HttpStatusError extends Error {
  constructor(readonly status: number, url: string) {
    super(`HTTP ${status} for ${url}`);
  }
}

export interface DownloadFileOptions {
  signal?: AbortSignal | undefined;
  /** Bytes received so far (including a resumed part) and the total, when known. */
  onProgress?: (received: number, total: number | undefined) => void;
  /** Attempts per file when the connection drops (each resumes where the last stopped; default 3). */
  attempts?: number;
}

/**
 * Downloads `url` to `dest` through `dest + '.part'`, resuming an existing part with a Range
 * request, retrying dropped connections, and renaming into place only when the size matches.
 */
export async function downloadFile(url: string, dest: string, options: DownloadFileOptions = {}): Promise<void> {
  const key = path.resolve(dest);
  // Same file already downloading in this process: wait for it, then check.
  for (let running = inflight.get(key); running; running = inflight.get(key)) await running.catch(() => undefined);
  const job = (async () => {
    await mkdir(path.dirname(dest), { recursive: true });
    const release = await lockDownload(dest, options.signal);
    try {
      if (await isFile(dest)) return; // another process finished it while we waited
      await downloadUnlocked(url, dest, options);
    } finally {
      await release();
    }
  })();
  inflight.set(key, job);
  try {
    await job;
  } finally {
    if (inflight.get(key) === job) inflight.delete(key);
  }
}

const inflight = new Map<string, Promise<void>>();

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes `dest.lock` (O_EXCL, holding our pid) so that two processes never append to the same
 * `.part`. A lock whose process is gone is taken over; a live one is waited for.
 */
async function lockDownload(dest: string, signal: AbortSignal | undefined): Promise<() => Promise<void>> {
  const lock = `${dest}.lock`;
  for (;;) {
    if (signal?.aborted) throw new AbortedError('model download');
    try {
      const fh = await open(lock, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      return () => rm(lock, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(owner) || owner <= 0 || owner === process.pid || !pidAlive(owner)) {
      // Stale (or unreadable while being written: give the writer a moment first).
      if (!Number.isInteger(owner) || owner <= 0) await new Promise((r) => setTimeout(r, 200));
      const again = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
      if (again === owner) await rm(lock, { force: true });
      continue;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function downloadUnlocked(url: string, dest: string, options: DownloadFileOptions): Promise<void> {
  const part = `${dest}.part`;
  const attempts = options.attempts ?? 3;
  let lastErr: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (options.signal?.aborted) throw new AbortedError('model download');
    try {
      await downloadOnce(url, part, options);
      await rename(part, dest);
      await fsyncDir(path.dirname(dest));
      return;
    } catch (err) {
      if (err instanceof HttpStatusError || err instanceof AbortedError || options.signal?.aborted) {
        throw options.signal?.aborted && !(err instanceof HttpStatusError) ? new AbortedError('model download') : err;
      }
      lastErr = err;
    }
  }
  throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
}

async function downloadOnce(url: string, part: string, options: DownloadFileOptions): Promise<void> {
  let offset = (await stat(part).catch(() => undefined))?.size ?? 0;
  const headers: Record<string, string> = { 'user-agent': 'pixsearch' };
  if (offset > 0) headers.range = `bytes=${offset}-`;
  const res = await fetch(url, { headers, redirect: 'follow', ...(options.signal ? { signal: options.signal } : {}) });
  if (res.status === 416 && offset > 0) {
    // The part is as long as (or longer than) the file: start over to be sure of its content.
    await res.body?.cancel();
    await rm(part, { force: true });
    throw new Error('range not satisfiable; restarting the download');
  }
  if (res.status !== 200 && res.status !== 206) {
    await res.body?.cancel();
    throw new HttpStatusError(res.status, url);
  }
  let total: number | undefined;
  if (res.status === 206) {
    const m = /bytes (\d+)-(\d+)\/(\d+|\*)/.exec(res.headers.get('content-range') ?? '');
    if (!m || Number(m[1]) !== offset) {
      await res.body?.cancel();
      await rm(part, { force: true });
      throw new Error(`server resumed at the wrong offset (${res.headers.get('content-range')}); restarting`);
    }
    total = m[3] === '*' ? undefined : Number(m[3]);
  } else {
    offset = 0; // server ignored the Range header: rewrite from the start
    const len = res.headers.get('content-length');
    total = len !== null && res.headers.get('content-encoding') === null ? Number(len) : undefined;
  }
  const out = createWriteStream(part, { flags: offset > 0 ? 'a' : 'w' });
  let received = offset;
  options.onProgress?.(received, total);
  try {
    if (!res.body) throw new Error('empty response body');
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      received += chunk.byteLength;
      options.onProgress?.(received, total);
    }
  } finally {
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
  if (total !== undefined && received !== total) {
    if (received > total) await rm(part, { force: true });
    throw new Error(`download of ${url} ended at ${received} of ${total} bytes`);
  }
}

/** A model in the cache. */
export interface CachedModel {
  id: string;
  folder: string;
  /** Bundle-relative files present (complete ones only). */
  files: string[];
  /** Bytes of the complete files. */
  bytes: number;
}

/** Lists hub models in the cache (folders `<owner>/<name>` holding a config.json). */
export async function listCachedModels(cacheDir = defaultCacheDir()): Promise<CachedModel[]> {
  const out: CachedModel[] = [];
  const owners = await readdir(cacheDir, { withFileTypes: true }).catch(() => []);
  for (const owner of owners) {
    if (!owner.isDirectory()) continue;
    const names = await readdir(path.join(cacheDir, owner.name), { withFileTypes: true }).catch(() => []);
    for (const name of names) {
      if (!name.isDirectory()) continue;
      const folder = path.join(cacheDir, owner.name, name.name);
      if (!(await isFile(path.join(folder, 'config.json')))) continue;
      const files: string[] = [];
      let bytes = 0;
      const walk = async (dir: string, rel: string) => {
        for (const e of await readdir(dir, { withFileTypes: true })) {
          const r = rel ? `${rel}/${e.name}` : e.name;
          if (e.isDirectory()) await walk(path.join(dir, e.name), r);
          else if (e.isFile() && !e.name.endsWith('.part') && !e.name.endsWith('.lock')) {
            files.push(r);
            bytes += (await stat(path.join(dir, e.name))).size;
          }
        }
      };
      await walk(folder, '');
      out.push({ id: `${owner.name}/${name.name}`, folder, files: files.sort(), bytes });
    }
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}
