// The one CSV writer of the duplicates list (server download and `pixsearch duplicates --csv`).
import { describe, expect, it } from 'vitest';
import { DUPLICATES_CSV_COLUMNS, EMPTY_METADATA, csvCell, duplicatesCsvRows, type DuplicateMember } from '../src/engine/index.js';

describe('csvCell', () => {
  it('leaves plain values alone and empties null/undefined', () => {
    expect(csvCell('beach.jpg')).toBe('beach.jpg');
    expect(csvCell(42)).toBe('42');
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
  });

  it('quotes commas, quotes and line breaks (RFC 4180), doubling quotes', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "cheese"')).toBe('"say ""cheese"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('cr\rhere')).toBe('"cr\rhere"');
  });

  it('neutralises what a spreadsheet would run as a formula', () => {
    for (const s of ['=HYPERLINK("x")', '+1', '-1', '@SUM(A1)', '\tx']) {
      const cell = csvCell(s);
      expect(cell.startsWith(`"'`)).toBe(true);
      expect(cell.endsWith('"')).toBe(true);
      expect(cell.slice(2, -1)).toBe(s.replace(/"/g, '""'));
    }
  });
});

describe('duplicatesCsvRows', () => {
  const member = (id: number, absPath: string, similarity: number, camera: string | null = 'FUJIFILM X-T4'): DuplicateMember => ({
    id,
    root: '/lib',
    path: absPath.slice('/lib/'.length),
    absPath,
    width: 100,
    height: 80,
    format: 'jpeg',
    bytes: 1234,
    ...EMPTY_METADATA,
    takenAt: '2023-07-14T10:23:00',
    dateSource: 'exif-original',
    camera,
    hash: `h${id}`,
    similarity,
  });

  it('writes the header and one row per image, keeper first, groups numbered from 1', () => {
    const rows = duplicatesCsvRows({
      groups: [
        { kind: 'exact', keeper: 1, minSimilarity: 1, images: [member(1, '/lib/a.jpg', 1), member(2, '/lib/b,c.jpg', 1, '=cmd|x')] },
        { kind: 'near', keeper: 3, minSimilarity: 0.98, images: [member(3, '/lib/d.jpg', 1), member(4, '/lib/e.jpg', 0.98123)] },
      ],
    });
    expect(rows[0]).toBe(DUPLICATES_CSV_COLUMNS.join(','));
    expect(rows).toHaveLength(5);
    expect(rows[1]).toBe('1,exact,yes,1,/lib/a.jpg,1.0000,100,80,1234,jpeg,2023-07-14T10:23:00,FUJIFILM X-T4,h1');
    expect(rows[2]!.split(',').slice(0, 4)).toEqual(['1', 'exact', 'no', '2']);
    expect(rows[2]).toBe(`1,exact,no,2,"/lib/b,c.jpg",1.0000,100,80,1234,jpeg,2023-07-14T10:23:00,"'=cmd|x",h2`);
    expect(rows[4]!.startsWith('2,near,no,4,/lib/e.jpg,0.9812,')).toBe(true);
  });
});
