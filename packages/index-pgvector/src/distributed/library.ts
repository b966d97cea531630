import { InvalidArgumentError } from '@pixsearch/core';
import type { SyncStore } from '@pixsearch/core/engine';
import type { PostgresCatalog } from '../catalog/index.js';

/** Name of a scaled-out library's pgvector index (table `pixsearch.vectors_library`). */
export const LIBRARY_INDEX_NAME = 'library';

/** A `postgres://` or `postgresql://` URL, or an `InvalidArgumentError`. */
export function checkDatabaseUrl(url: string): string {
  if (typeof url !== 'string' || !/^postgres(ql)?:\/\//.test(url)) {
    throw new InvalidArgumentError(`--db must be a PostgreSQL connection URL (postgres://user@host:5432/database), got ${JSON.stringify(url)}`, {
      hint: 'put the password in PGPASSWORD or ~/.pgpass rather than in the URL',
    });
  }
  return url;
}

/** Where the vectors of a database library are mirrored when its backend is pgvector (else nowhere: front ends build their index from the catalog). */
export interface VectorMirror extends SyncStore {
  close(): Promise<void>;
}

/**
 * Opens the library's pgvector index when the catalog's backend is `pgvector` (the index lives in
 * the same database), as a sync store: committed vectors are upserted, removed ids deleted.
 * The index is the one the catalog's `remoteIndex` record names (`library` by default); when the
 * record is missing or stale it is written, so that front ends (`pixsearch serve --db`, any engine
 * over this catalog) search the very table the workers fill.
 */
export async function openVectorMirror(catalog: PostgresCatalog, url: string): Promise<VectorMirror | undefined> {
  const settings = catalog.settings();
  if (settings.backend !== 'pgvector' || settings.dimension === null || settings.modelId === null) return undefined;
  const { PgvectorIndex } = await import('../pgvector-index.js');
  const rec = settings.remoteIndex;
  const usable = rec !== null && rec.backend === 'pgvector' && rec.modelId === settings.modelId && rec.dimension === settings.dimension && sameParams(rec.params, settings.backendParams);
  const name = usable ? rec.name : LIBRARY_INDEX_NAME;
  const index = await PgvectorIndex.open({ name, dimension: settings.dimension, metric: 'cosine', params: settings.backendParams, connection: url });
  if (!usable && !catalog.readOnly) {
    catalog.updateSettings({
      remoteIndex: {
        name,
        backend: 'pgvector',
        params: { ...settings.backendParams },
        modelId: settings.modelId,
        dimension: settings.dimension,
        // Workers write straight into the table: it is never behind the catalog by more than the batches in flight.
        marker: catalog.marker(),
        savedAt: new Date().toISOString(),
      },
    });
  }
  return {
    ensure: async () => undefined,
    apply: async (ids, vectors, removed) => {
      if (removed.length > 0) await index.remove(removed);
      if (ids.length > 0) await index.add(ids, vectors);
    },
    save: async () => undefined,
    saveDue: () => false,
    close: () => index.close(),
  };
}

function sameParams(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}
