import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DependencyMissingError, InvalidArgumentError, IndexCorruptError } from './errors.js';
import { readIndexManifest } from './index-files.js';
import type { BackendFactory, BackendName, CreateIndexOptions, VectorIndex } from './vector-index.js';

/** Which package implements each backend; loaded lazily so core never depends on adapters. */
export const BACKEND_PACKAGES: Readonly<Record<BackendName, string>> = {
  'faiss-flat': '@pixsearch/index-faiss',
  'faiss-ivf': '@pixsearch/index-faiss',
  hnswlib: '@pixsearch/index-hnsw',
  usearch: '@pixsearch/index-hnsw',
};

/** All backend names, in the order docs list them. */
export const BACKENDS = Object.keys(BACKEND_PACKAGES) as BackendName[];

const registry = new Map<BackendName, BackendFactory>();

/** Registers backend factories (adapter packages call this on import via their `backends` export). */
export function registerBackend(...factories: BackendFactory[]): void {
  for (const f of factories) registry.set(f.name, f);
}

/** True when `name` is a known backend name. */
export function isBackendName(name: string): name is BackendName {
  return Object.hasOwn(BACKEND_PACKAGES, name);
}

/** Returns the factory for `backend`, importing its adapter package on first use. */
export async function getBackend(backend: string): Promise<BackendFactory> {
  if (!isBackendName(backend)) {
    throw new InvalidArgumentError(`unknown backend "${backend}"; choose one of ${BACKENDS.join(', ')}`);
  }
  const known = registry.get(backend);
  if (known) return known;
  const pkg = BACKEND_PACKAGES[backend];
  let mod: { backends?: BackendFactory[] };
  try {
    mod = await importAdapter(pkg);
  } catch (cause) {
    throw new DependencyMissingError(pkg, `the "${backend}" backend`, { cause });
  }
  registerBackend(...(mod.backends ?? []));
  const factory = registry.get(backend);
  if (!factory) throw new DependencyMissingError(pkg, `the "${backend}" backend (the package does not register it)`);
  return factory;
}

/**
 * Imports an adapter package by name: from core's own location first, then from the
 * application's (its entry script, then the working directory). Under pnpm the adapters are
 * dependencies of the application (cli, server, benchmarks), which core's own node_modules
 * cannot see. `createRequire().resolve` honours `--conditions`, so source runs stay on sources.
 */
async function importAdapter(pkg: string): Promise<{ backends?: BackendFactory[] }> {
  try {
    return (await import(pkg)) as { backends?: BackendFactory[] };
  } catch (first) {
    for (const from of [process.argv[1], path.join(process.cwd(), 'package.json')]) {
      if (!from) continue;
      let resolved: string;
      try {
        resolved = createRequire(path.resolve(from)).resolve(pkg);
      } catch {
        continue;
      }
      return (await import(pathToFileURL(resolved).href)) as { backends?: BackendFactory[] };
    }
    throw first;
  }
}

/** Creates an empty index. The caller owns it and must `close()` it. */
export async function createIndex(options: CreateIndexOptions): Promise<VectorIndex> {
  if (!Number.isInteger(options.dimension) || options.dimension < 1) {
    throw new InvalidArgumentError(`dimension must be a positive integer, got ${options.dimension}`);
  }
  const metric = options.metric ?? 'cosine';
  if (metric !== 'cosine' && metric !== 'l2') throw new InvalidArgumentError(`metric must be "cosine" or "l2", got "${String(metric)}"`);
  const factory = await getBackend(options.backend);
  return factory.create({ backend: options.backend, dimension: options.dimension, metric, params: { ...(options.params ?? {}) } });
}

/** Loads an index saved with `save(dir)`, whatever its backend. Throws `IndexCorruptError`. */
export async function loadIndex(dir: string): Promise<VectorIndex> {
  const manifest = await readIndexManifest(dir);
  if (!isBackendName(manifest.backend)) throw new IndexCorruptError(dir, `unknown backend "${manifest.backend}"`);
  const factory = await getBackend(manifest.backend);
  return factory.load(dir, manifest);
}
