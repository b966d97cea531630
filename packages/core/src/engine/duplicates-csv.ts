// The duplicates list as CSV: one row per image. The server's `GET /api/duplicates?download=csv`
// and `pixsearch duplicates --csv` both write it with these functions (one quoting rule).
import type { DuplicateReport } from './types.js';

/** Columns of the duplicates CSV, in order (the header row). */
export const DUPLICATES_CSV_COLUMNS = ['group', 'kind', 'keeper', 'id', 'path', 'similarity', 'width', 'height', 'bytes', 'format', 'takenAt', 'camera', 'hash'] as const;

/** Starts of a cell that a spreadsheet would read as a formula (or a tab it would eat). */
const FORMULA_START = /^[=+\-@\t]/;

/**
 * One CSV cell: RFC 4180 quoting (a cell holding `"`, `,`, CR or LF is quoted, its `"` doubled);
 * a cell starting like a formula (`=`, `+`, `-`, `@`, tab) is quoted and prefixed with `'`, so a
 * spreadsheet shows it instead of running it (a file name can be `=HYPERLINK(…)`). `null` and
 * `undefined` are empty.
 */
export function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  const formula = FORMULA_START.test(s);
  return formula || /[",\r\n]/.test(s) ? `"${formula ? "'" : ''}${s.replace(/"/g, '""')}"` : s;
}

/**
 * The rows of the duplicates CSV, header first, without line endings (join them with `\r\n` for
 * a file, or print them one per line): group number (1-based), `exact`/`near`, keeper `yes`/`no`,
 * catalog id, absolute path, similarity to the keeper (4 decimals), pixels, bytes, format, date
 * taken, camera, content hash.
 */
export function duplicatesCsvRows(report: Pick<DuplicateReport, 'groups'>): string[] {
  const rows = [DUPLICATES_CSV_COLUMNS.join(',')];
  report.groups.forEach((g, i) => {
    for (const m of g.images) {
      const row = {
        group: i + 1,
        kind: g.kind,
        keeper: m.id === g.keeper ? 'yes' : 'no',
        id: m.id,
        path: m.absPath,
        similarity: m.similarity.toFixed(4),
        width: m.width,
        height: m.height,
        bytes: m.bytes,
        format: m.format,
        takenAt: m.takenAt,
        camera: m.camera,
        hash: m.hash,
      };
      rows.push(DUPLICATES_CSV_COLUMNS.map((k) => csvCell(row[k])).join(','));
    }
  });
  return rows;
}
