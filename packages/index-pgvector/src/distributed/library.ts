import { InvalidArgumentError } from '@pixsearch/core';

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
