// Shared helpers of the engine tests: real backends, embedders and spies (image files come from @pixsearch/core/testing).
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { registerBackend, type BackendFactory, type EmbedOptions, type Embedder, type ImageEmbeddings, type ImageInput } from '@pixsearch/core';

/** Registers the real FAISS backends (the adapter package's sources; core cannot depend on it). */
export async function registerFaiss(): Promise<void> {
  const url = new URL('../../index-faiss/src/index.ts', import.meta.url).href;
  const mod = (await import(url)) as { backends: BackendFactory[] };
  registerBackend(...mod.backends);
}

/** A fresh temporary folder; remove it with `rm(dir, { recursive: true, force: true })`. */
export async function tempDir(prefix = 'pixsearch-engine-'): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Wraps a real embedder and counts what goes through it (a spy: every call reaches the real one). */
export class SpyEmbedder implements Embedder {
  imageCalls = 0;
  imagesEmbedded = 0;
  textCalls = 0;
  inputs: ImageInput[] = [];
  /**
   * Called after each `embedImages` call has its answer, before the caller gets it (`call` counts
   * from 1): a test stops a sync at an exact batch boundary this way, never by timing.
   */
  afterImageCall: ((call: number) => void) | undefined;

  constructor(readonly inner: Embedder) {}

  get modelId(): string {
    return this.inner.modelId;
  }

  get dimension(): number {
    return this.inner.dimension;
  }

  async embedImages(inputs: readonly ImageInput[], options?: EmbedOptions): Promise<ImageEmbeddings> {
    this.imageCalls++;
    this.imagesEmbedded += inputs.length;
    this.inputs.push(...inputs);
    const call = this.imageCalls;
    const result = await this.inner.embedImages(inputs, options);
    this.afterImageCall?.(call);
    return result;
  }

  async embedTexts(texts: readonly string[], options?: EmbedOptions): Promise<Float32Array> {
    this.textCalls++;
    return this.inner.embedTexts(texts, options);
  }

  reset(): void {
    this.imageCalls = 0;
    this.imagesEmbedded = 0;
    this.textCalls = 0;
    this.inputs = [];
    this.afterImageCall = undefined;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Relative path → posix form used by the catalog. */
export const posix = (p: string): string => p.split(path.sep).join('/');

/**
 * A small deterministic embedder on real sharp decoding: an image becomes its 4×4 RGB thumbnail
 * (centred, L2-normalised, 48-d); a text a hash-derived vector. Used where a test needs to control
 * similarity exactly; the end-to-end tests use the real CLIP embedder with the generated tiny model.
 */
export class PixelEmbedder implements Embedder {
  readonly dimension = 48;
  closed = false;
  constructor(readonly modelId = 'test/pixels-4x4') {}

  async embedImages(inputs: readonly ImageInput[], options?: EmbedOptions): Promise<ImageEmbeddings> {
    const { ImageDecodeError } = await import('@pixsearch/core');
    const vectors = new Float32Array(inputs.length * this.dimension);
    const errors: ImageEmbeddings['errors'] = [];
    const sizes: ImageEmbeddings['sizes'] = [];
    for (const [i, input] of inputs.entries()) {
      if (options?.signal?.aborted) throw new (await import('@pixsearch/core')).AbortedError('embedding');
      try {
        const img = sharp(input as string | Buffer, { failOn: 'error' });
        const meta = await img.metadata();
        const raw = await img.removeAlpha().resize(4, 4, { fit: 'fill' }).raw().toBuffer();
        let norm = 0;
        for (let j = 0; j < 48; j++) norm += (raw[j]! - 127.5) ** 2;
        norm = Math.sqrt(norm) || 1;
        for (let j = 0; j < 48; j++) vectors[i * 48 + j] = (raw[j]! - 127.5) / norm;
        errors.push(undefined);
        sizes.push({ width: meta.width ?? 0, height: meta.height ?? 0, format: meta.format ?? '' });
      } catch (err) {
        const msg = (err as Error).message;
        const reason = /premature|truncat|end of|corrupt/i.test(msg) ? 'truncated' : 'decode-failed';
        errors.push(new ImageDecodeError(typeof input === 'string' ? input : 'buffer', reason, msg));
        sizes.push({ width: 0, height: 0, format: '' });
      }
      options?.onProgress?.(i + 1, inputs.length);
    }
    return { vectors, errors, sizes };
  }

  async embedTexts(texts: readonly string[]): Promise<Float32Array> {
    const out = new Float32Array(texts.length * 48);
    texts.forEach((t, i) => {
      const h = Buffer.concat([0, 1].map((n) => createHash('sha256').update(`${n}:${t}`).digest()));
      let norm = 0;
      for (let j = 0; j < 48; j++) norm += (h[j]! - 127.5) ** 2;
      norm = Math.sqrt(norm);
      for (let j = 0; j < 48; j++) out[i * 48 + j] = (h[j]! - 127.5) / norm;
    });
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** The generated `tiny` CLIP bundle (seeded random weights, a few MB), shared by the test files through the OS temp folder. */
export async function tinyBundle(): Promise<string> {
  // Straight from its module: the `testing` entry point imports vitest, and child processes use this too.
  const { ensureTinyBundle } = await import('../src/testing/tiny-model.js');
  return ensureTinyBundle();
}

/** The real CLIP embedder on a bundle folder (the caller closes it). */
export async function clipEmbedder(bundle: string): Promise<Embedder> {
  const { ClipEmbedder } = (await import('@pixsearch/core/clip')) as unknown as {
    ClipEmbedder: { create(o: { model: string; threads?: number; batchSize?: number }): Promise<Embedder> };
  };
  return ClipEmbedder.create({ model: bundle, threads: 1, batchSize: 8 });
}

export interface ChildRun {
  /** Parsed JSON lines printed so far. */
  lines: Record<string, unknown>[];
  /** Resolves with the exit code (null) and signal once the child is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
  /** Resolves with the first line for which `pred` is true (rejects if the child exits first). */
  waitFor(pred: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  pid: number;
  stderr(): string;
}

/** Spawns `test/fixtures/engine/engine-child.ts` through tsx with the source condition. */
export async function spawnChild(args: string[], options: { uid?: number; gid?: number; env?: Record<string, string> } = {}): Promise<ChildRun> {
  const { spawn } = await import('node:child_process');
  const script = new URL('./fixtures/engine/engine-child.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--conditions=@pixsearch/source', '--import', 'tsx', script, ...args], {
    cwd: new URL('..', import.meta.url).pathname,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.uid !== undefined ? { uid: options.uid } : {}),
    ...(options.gid !== undefined ? { gid: options.gid } : {}),
    env: { ...process.env, ...options.env },
  });
  const lines: Record<string, unknown>[] = [];
  const waiters: { pred: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void; reject: (e: Error) => void }[] = [];
  let err = '';
  let buf = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      lines.push(parsed);
      for (const w of [...waiters]) {
        if (w.pred(parsed)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(parsed);
        }
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      for (const w of waiters.splice(0)) w.reject(new Error(`child exited (${code ?? signal}) before the awaited line; stderr: ${err}`));
      resolve({ code, signal });
    });
  });
  return {
    lines,
    exited,
    pid: child.pid!,
    kill: (signal = 'SIGKILL') => child.kill(signal),
    stderr: () => err,
    waitFor: (pred) => {
      const hit = lines.find(pred);
      if (hit) return Promise.resolve(hit);
      if (child.exitCode !== null || child.signalCode !== null) return Promise.reject(new Error(`child already exited; stderr: ${err}`));
      return new Promise((resolve, reject) => waiters.push({ pred, resolve, reject }));
    },
  };
}
