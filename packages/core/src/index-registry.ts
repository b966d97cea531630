// The open backend registry. Adapters register themselves on import (`registerBackend`); core
// names no backend and no adapter package. Backends not imported yet are found by discovery:
// packages whose package.json says `"pixsearch": { "backend": true }`, in the folder that holds
// core's own package (the workspace's `packages/`, or `node_modules/@pixsearch/` when installed)
// and in the folders or modules listed in `PIXSEARCH_BACKENDS`.
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { IndexCorruptError, InvalidArgumentError } from './errors.js';
import { readIndexManifest } from './index-files.js';
import { checkNoSecrets } from './params.js';
import type { BackendFactory, CreateIndexOptions, FileVectorIndex, RemoteBackendFactory, VectorIndex } from './vector-index.js';

/** Environment variable listing extra backend modules or folders (separated by `path.delimiter`). */
export const BACKENDS_ENV = 'PIXSEARCH_BACKENDS';

const NAME = /^[a-z][a-z0-9-]{0,39}$/;

interface RegistryState {
  factories: Map<string, BackendFactory>;
  discovery: Promise<void> | undefined;
  /** Modules that failed to load during discovery, with why. */
  failures: string[];
}

// On globalThis: a second copy of core (sources and dist side by side) shares one registry.
const STATE_KEY = Symbol.for('pixsearch.backend-registry');
const state: RegistryState = ((globalThis as Record<symbol, unknown>)[STATE_KEY] as RegistryState | undefined) ?? {
  factories: new Map(),
  discovery: undefined,
  failures: [],
};
(globalThis as Record<symbol, unknown>)[STATE_KEY] = state;

/**
 * Registers backend factories; adapter packages call this when imported. Registering a name again
 * replaces the earlier factory. Throws `InvalidArgumentError` for an invalid name.
 */
export function registerBackend(...factories: BackendFactory[]): void {
  for (const f of factories) {
    if (!f || typeof f.name !== 'string' || !NAME.test(f.name)) {
      throw new InvalidArgumentError(`backend name ${JSON.stringify(f?.name)} is invalid: use lowercase letters, digits and dashes`);
    }
    const kind: string = f.persistence;
    if (kind !== 'files' && kind !== 'remote') {
      throw new InvalidArgumentError(`backend "${f.name}" declares no persistence ("files" or "remote")`);
    }
    state.factories.set(f.name, f);
  }
}

/** Backends registered so far, in registration order (no discovery). */
export function registeredBackends(): BackendFactory[] {
  return [...state.factories.values()];
}

/** Every backend available: discovers adapter packages (once), then lists what is registered. */
export async function listBackends(): Promise<BackendFactory[]> {
  await discoverBackends();
  return registeredBackends();
}

/**
 * Returns the factory for `backend`, discovering adapter packages when it is not registered yet.
 * Throws `InvalidArgumentError` naming the registered backends when there is none by that name.
 */
export async function getBackend(backend: string): Promise<BackendFactory> {
  const known = state.factories.get(backend);
  if (known) return known;
  await discoverBackends();
  const found = state.factories.get(backend);
  if (found) return found;
  const names = registeredBackends().map((f) => f.name);
  const failed = state.failures.length > 0 ? ` (could not load: ${state.failures.join('; ')})` : '';
  throw new InvalidArgumentError(`unknown backend "${backend}"; registered: ${names.length > 0 ? names.join(', ') : 'none'}${failed}`, {
    hint: `install its adapter package next to @pixsearch/core, or name its folder in ${BACKENDS_ENV}`,
  });
}

/**
 * Imports every adapter package it can find (see the file comment) so that they register
 * themselves. Runs once per process unless `force`. A package that fails to import is recorded
 * and named by `getBackend`'s error, never thrown here.
 */
export function discoverBackends(options: { force?: boolean } = {}): Promise<void> {
  if (!state.discovery || options.force) state.discovery = runDiscovery();
  return state.discovery;
}

async function runDiscovery(): Promise<void> {
  const entries: string[] = [];
  const seen = new Set<string>();
  const addFolder = (dir: string): void => {
    const entry = backendEntry(dir);
    if (entry && !seen.has(entry)) {
      seen.add(entry);
      entries.push(entry);
    }
  };
  const scan = (parent: string): void => {
    let names: string[];
    try {
      names = readdirSync(parent).sort();
    } catch {
      return;
    }
    for (const n of names) addFolder(path.join(parent, n));
  };
  scan(path.dirname(corePackageDir()));
  const modules: string[] = [];
  for (const item of (process.env[BACKENDS_ENV] ?? '').split(path.delimiter).filter(Boolean)) {
    const abs = path.resolve(item);
    if (existsSync(abs) && statSync(abs).isDirectory()) {
      if (existsSync(path.join(abs, 'package.json'))) addFolder(abs);
      else scan(abs);
    } else if (existsSync(abs)) {
      entries.push(abs);
    } else {
      modules.push(item);
    }
  }
  for (const file of entries) await importBackendModule(pathToFileURL(file).href, file);
  for (const spec of modules) {
    let resolved: string;
    try {
      resolved = createRequire(path.join(process.cwd(), 'package.json')).resolve(spec);
    } catch (err) {
      state.failures.push(`${spec}: ${(err as Error).message.split('\n')[0]}`);
      continue;
    }
    await importBackendModule(pathToFileURL(resolved).href, spec);
  }
}

async function importBackendModule(url: string, label: string): Promise<void> {
  try {
    const mod = (await import(url)) as { backends?: unknown };
    // Adapters register on import; a `backends` export is registered too (idempotent).
    if (Array.isArray(mod.backends)) registerBackend(...(mod.backends as BackendFactory[]));
  } catch (err) {
    state.failures.push(`${label}: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** Core's own package folder (realpath: under pnpm, node_modules/@pixsearch/core is a link). */
function corePackageDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url)); // <pkg>/src or <pkg>/dist
  const dir = path.dirname(here);
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}

/** Core runs from its TypeScript sources (tests, tsx): load adapters from theirs too. */
const FROM_SOURCES = import.meta.url.endsWith('.ts');

/** The entry file of a backend package folder (`"pixsearch": { "backend": true }`), or undefined. */
function backendEntry(dir: string): string | undefined {
  let pkg: { pixsearch?: { backend?: unknown }; exports?: unknown; main?: string };
  try {
    pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as typeof pkg;
  } catch {
    return undefined;
  }
  if (pkg.pixsearch?.backend !== true) return undefined;
  const root = (typeof pkg.exports === 'object' && pkg.exports !== null && '.' in pkg.exports ? (pkg.exports as Record<string, unknown>)['.'] : pkg.exports) as
    | string
    | Record<string, unknown>
    | undefined;
  const candidates: string[] = [];
  if (typeof root === 'string') candidates.push(root);
  else if (root && typeof root === 'object') {
    const order = FROM_SOURCES ? ['@pixsearch/source', 'import', 'default'] : ['import', 'default', '@pixsearch/source'];
    for (const c of order) if (typeof root[c] === 'string') candidates.push(root[c]);
  }
  if (pkg.main) candidates.push(pkg.main);
  candidates.push('index.js');
  for (const c of candidates) {
    const file = path.resolve(dir, c);
    if (existsSync(file)) return file;
  }
  return undefined;
}

/** Reads a remote backend's connection string from the environment (`envName`, default the backend's). */
export function resolveConnection(factory: RemoteBackendFactory, envName?: string): string {
  const name = envName ?? factory.connectionEnv;
  const value = process.env[name];
  if (!value) {
    throw new InvalidArgumentError(`the ${factory.name} backend reads its connection string from the environment variable ${name}, which is not set`);
  }
  return value;
}

/** Options of {@link createIndex} for remote backends. */
export interface RemoteCreateOptions {
  /** Name of the index in the server (required for remote backends). */
  name?: string;
  /** Environment variable holding the connection string (default: the backend's `connectionEnv`). */
  connectionEnv?: string;
}

function checkCreateOptions(options: CreateIndexOptions): { metric: 'cosine' | 'l2'; params: Record<string, number | string> } {
  if (!Number.isInteger(options.dimension) || options.dimension < 1) {
    throw new InvalidArgumentError(`dimension must be a positive integer, got ${options.dimension}`);
  }
  const metric = options.metric ?? 'cosine';
  if (metric !== 'cosine' && metric !== 'l2') throw new InvalidArgumentError(`metric must be "cosine" or "l2", got "${String(metric)}"`);
  const params = { ...(options.params ?? {}) };
  checkNoSecrets(options.backend, params);
  return { metric, params };
}

/**
 * Creates an empty index (`files` backends), or opens the remote index `name`, creating it when
 * missing (`remote` backends). The caller owns it and must `await close()` it.
 */
export async function createIndex(options: CreateIndexOptions & RemoteCreateOptions): Promise<VectorIndex> {
  const { metric, params } = checkCreateOptions(options);
  const factory = await getBackend(options.backend);
  if (factory.persistence === 'files') return factory.create({ dimension: options.dimension, metric, params });
  if (!options.name) throw new InvalidArgumentError(`the ${factory.name} backend keeps its index in a server: give the index a name`);
  return factory.open({ dimension: options.dimension, metric, params, name: options.name, connection: resolveConnection(factory, options.connectionEnv) });
}

/** Loads a `files` index saved with `save(dir)`, whatever its backend. Throws `IndexCorruptError`. */
export async function loadIndex(dir: string): Promise<FileVectorIndex> {
  const manifest = await readIndexManifest(dir);
  let factory: BackendFactory;
  try {
    factory = await getBackend(manifest.backend);
  } catch (cause) {
    throw new IndexCorruptError(dir, `unknown backend "${manifest.backend}"`, { cause });
  }
  if (factory.persistence !== 'files') throw new IndexCorruptError(dir, `backend "${manifest.backend}" does not keep its index in files`);
  return factory.load(dir, manifest);
}
