/**
 * A real library for the server tests: an image folder drawn with sharp, a data directory, and
 * a real SearchEngine (SQLite catalog, FAISS index) running the generated `tiny` CLIP bundle.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import '@pixsearch/index-faiss';
import { SearchEngine } from '@pixsearch/core/engine';
import { ensureTinyBundle, writeTestLibrary, type TestLibraryImage } from '@pixsearch/core/testing';

/** The repository root (for `artifacts/`). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** Where the end-to-end tests save screenshots (kept by CI as artifacts). */
export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'artifacts', 'screenshots');

export interface TestLibrary {
  /** Temporary folder holding everything below; removed by `close()`. */
  dir: string;
  /** The image folder (the engine's root). */
  root: string;
  dataDir: string;
  images: TestLibraryImage[];
  engine: SearchEngine;
  /** Closes the engine and removes the folder. */
  close(): Promise<void>;
}

export async function openLibrary(options: { count?: number; sync?: boolean; backend?: string } = {}): Promise<TestLibrary> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pixsearch-server-'));
  const root = path.join(dir, 'images');
  const dataDir = path.join(dir, 'data');
  const images = await writeTestLibrary(root, options.count ?? 24);
  const engine = await SearchEngine.open({
    dataDir,
    roots: [root],
    model: await ensureTinyBundle(),
    threads: 1,
    batchSize: 8,
    ...(options.backend ? { backend: options.backend } : {}),
  });
  if (options.sync !== false) await engine.sync();
  return {
    dir,
    root,
    dataDir,
    images,
    engine,
    close: async () => {
      await engine.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
