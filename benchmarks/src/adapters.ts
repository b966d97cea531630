/**
 * The pixsearch adapters under test, registered explicitly (the benchmark package depends on
 * both adapter packages), plus a loader that can override a saved parameter — used to run
 * USearch with one thread in single-query mode, as ann-benchmarks does.
 */
import { getBackend, readIndexManifest, registerBackend, type BackendFactory, type FileVectorIndex } from '@pixsearch/core';

let registered: Promise<void> | undefined;

/** Imports and registers the adapter packages once. */
export function registerAdapters(): Promise<void> {
  registered ??= (async () => {
    const faiss = (await import('@pixsearch/index-faiss')) as unknown as { backends?: BackendFactory[] };
    const hnsw = (await import('@pixsearch/index-hnsw')) as unknown as { backends?: BackendFactory[] };
    registerBackend(...(faiss.backends ?? []), ...(hnsw.backends ?? []));
  })();
  return registered;
}

/** The adapter factory for `backend` (library name/version included). */
export async function adapterFactory(backend: string): Promise<BackendFactory> {
  await registerAdapters();
  return getBackend(backend);
}

/** Loads a saved index through its adapter, with `override` merged into the saved parameters. */
export async function loadAdapterIndex(dir: string, override: Record<string, number | string> = {}): Promise<FileVectorIndex> {
  await registerAdapters();
  const manifest = await readIndexManifest(dir);
  const factory = await getBackend(manifest.backend);
  if (factory.persistence !== 'files') throw new Error(`${manifest.backend} does not keep its index in files`);
  return factory.load(dir, { ...manifest, params: { ...manifest.params, ...override } });
}
