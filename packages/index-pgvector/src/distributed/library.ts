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
 */
export async function openVectorMirror(catalog: PostgresCatalog, url: string): Promise<VectorMirror | undefined> {
  const settings = catalog.settings();
  if (settings.backend !== 'pgvector' || settings.dimension === null) return undefined;
  const { PgvectorIndex } = await import('../pgvector-index.js');
  const index = await PgvectorIndex.open({ name: LIBRARY_INDEX_NAME, dimension: settings.dimension, metric: 'cosine', params: settings.backendParams, connection: url });
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
