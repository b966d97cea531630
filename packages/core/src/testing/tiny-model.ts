// A tiny generated CLIP bundle shared by tests across packages (engine, server, CLI): generated
// once into the OS temp folder (keyed by generator version and seed) and reused afterwards.
import { randomBytes } from 'node:crypto';
import { rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GENERATOR_VERSION, generateBundle } from '../model-generator/index.js';

const inflight = new Map<string, Promise<string>>();

/**
 * Returns the folder of a `tiny` generated CLIP bundle (projection dim 32, 224 px images, fp32 and
 * quantized towers), generating it the first time (about a second). Safe to call concurrently
 * from several processes. The folder must be treated as read-only.
 */
export function ensureTinyBundle(options: { seed?: number; dir?: string } = {}): Promise<string> {
  const seed = options.seed ?? 0;
  const base = options.dir ?? process.env.PIXSEARCH_TEST_MODELS ?? path.join(os.tmpdir(), 'pixsearch-test-models');
  const folder = path.join(base, `tiny-v${GENERATOR_VERSION}-seed${seed}`);
  let p = inflight.get(folder);
  if (!p) {
    p = (async () => {
      if (await complete(folder)) return folder;
      const tmp = `${folder}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
      await generateBundle({ preset: 'tiny', out: tmp, seed });
      try {
        await rename(tmp, folder);
      } catch (err) {
        await rm(tmp, { recursive: true, force: true });
        if (!(await complete(folder))) throw err;
      }
      return folder;
    })();
    inflight.set(folder, p);
    p.catch(() => inflight.delete(folder));
  }
  return p;
}

async function complete(folder: string): Promise<boolean> {
  try {
    return (await stat(path.join(folder, 'config.json'))).isFile();
  } catch {
    return false;
  }
}
