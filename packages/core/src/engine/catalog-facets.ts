import type { CatalogFacets } from './catalog.js';
import { folderCounts } from './filter.js';

/**
 * What differs between SQL dialects in the facet queries; everything else is one text, shared by
 * the SQLite and PostgreSQL catalogs (see {@link facetStatements}).
 */
export interface FacetDialect {
  /** `YYYY-MM` of a local time in ms read as UTC (column expression `ms`). */
  month(ms: string): string;
  /** An integer count expression as the driver should return it (PostgreSQL: `::int`, else bigint strings). */
  int(expr: string): string;
  /** Appended to a text column in ORDER BY for byte order (PostgreSQL's `COLLATE "C"`; SQLite's default is already bytewise). */
  bytewise: string;
}

export const SQLITE_FACET_DIALECT: FacetDialect = {
  month: (ms) => `strftime('%Y-%m', ${ms} / 1000, 'unixepoch')`,
  int: (expr) => expr,
  bytewise: '',
};

/** The facet queries over `from` (`images i JOIN roots r …`) restricted by `where` (the catalog's own filter SQL and parameters). */
export function facetStatements(d: FacetDialect, from: string, where: string): { head: string; cameras: string; formats: string; months: string; folders: string } {
  const base = `${from} WHERE ${where}`;
  return {
    head: `SELECT ${d.int('count(*)')} AS total, min(i.taken_local) AS min, max(i.taken_local) AS max, ${d.int('count(i.latitude)')} AS located ${base}`,
    // At most 500 cameras: a picker, not a report.
    cameras: `SELECT i.camera AS value, ${d.int('count(*)')} AS count ${base} AND i.camera IS NOT NULL GROUP BY i.camera ORDER BY count(*) DESC, i.camera${d.bytewise} LIMIT 500`,
    formats: `SELECT i.format AS value, ${d.int('count(*)')} AS count ${base} GROUP BY i.format ORDER BY count(*) DESC, i.format${d.bytewise}`,
    months: `SELECT ${d.month('i.taken_local')} AS month, ${d.int('count(*)')} AS count ${base} AND i.taken_local IS NOT NULL GROUP BY month ORDER BY month DESC`,
    // Every directory level above each image, counted in JS (one pass over the paths).
    folders: `SELECT r.path AS root, i.rel_path AS rel ${base}`,
  };
}

/** Assembles the rows of {@link facetStatements}' queries. */
export function toFacets(
  head: { total: number; min: number | null; max: number | null; located: number },
  cameras: { value: string; count: number }[],
  formats: { value: string; count: number }[],
  months: { month: string; count: number }[],
  folderRows: Iterable<{ root: string; rel: string }>,
): CatalogFacets {
  return {
    total: head.total,
    cameras,
    formats,
    folders: folderCounts(folderRows),
    dateRange: head.min === null || head.max === null ? null : { min: head.min, max: head.max },
    months,
    located: head.located,
  };
}
