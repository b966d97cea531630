import { describe, expect, test } from 'vitest';
import { QuerySyntaxError } from '@pixsearch/core';
import { formatQuery, parseQuery } from '@pixsearch/core/engine';

describe('parseQuery', () => {
  test('plain text without quotes is one term, operators and all', () => {
    expect(parseQuery('a dog on a bench')).toEqual([{ text: 'a dog on a bench' }]);
    expect(parseQuery('  t-shirt + jeans  ')).toEqual([{ text: 't-shirt + jeans' }]);
    expect(parseQuery("dog's toy: 2:1")).toEqual([{ text: "dog's toy: 2:1" }]);
  });

  test('combined terms with + and -', () => {
    expect(parseQuery('"beach" + "sunset" - "people"')).toEqual([{ text: 'beach' }, { text: 'sunset' }, { text: 'people', weight: -1 }]);
    expect(parseQuery('"beach"+"sunset"-"people"')).toEqual([{ text: 'beach' }, { text: 'sunset' }, { text: 'people', weight: -1 }]);
  });

  test('weights', () => {
    expect(parseQuery('2:"sunset"')).toEqual([{ text: 'sunset', weight: 2 }]);
    expect(parseQuery('0.5:"x" - 2:"y" + .25:"z"')).toEqual([
      { text: 'x', weight: 0.5 },
      { text: 'y', weight: -2 },
      { text: 'z', weight: 0.25 },
    ]);
    expect(parseQuery('-"people"')).toEqual([{ text: 'people', weight: -1 }]);
    expect(parseQuery('-2:"a" + -0.5:"b"')).toEqual([
      { text: 'a', weight: -2 },
      { text: 'b', weight: -0.5 },
    ]);
    expect(parseQuery('"a" - -1:"b"')).toEqual([{ text: 'a' }, { text: 'b' }]);
    expect(parseQuery('1e-1:"a"')).toEqual([{ text: 'a', weight: 0.1 }]);
  });

  test('escapes, smart quotes and whitespace inside terms', () => {
    expect(parseQuery('"say \\"cheese\\"" + "back\\\\slash"')).toEqual([{ text: 'say "cheese"' }, { text: 'back\\slash' }]);
    expect(parseQuery('\u201cbeach\u201d + \u201csunset\u201d')).toEqual([{ text: 'beach' }, { text: 'sunset' }]);
    expect(parseQuery('"  a dog  "')).toEqual([{ text: 'a dog' }]);
  });

  test('a bare id:N query (no quotes) means "like image N"; other unquoted text stays text', () => {
    expect(parseQuery('id:42')).toEqual([{ imageId: 42 }]);
    expect(parseQuery('  ID:7  ')).toEqual([{ imageId: 7 }]);
    expect(parseQuery('id:42 - id:7')).toEqual([{ imageId: 42 }, { imageId: 7, weight: -1 }]);
    expect(parseQuery('2:id:3 + id:4')).toEqual([{ imageId: 3, weight: 2 }, { imageId: 4 }]);
    expect(parseQuery('id:42 dog')).toEqual([{ text: 'id:42 dog' }]);
    expect(parseQuery('id:x')).toEqual([{ text: 'id:x' }]);
    expect(parseQuery('paid:42')).toEqual([{ text: 'paid:42' }]);
  });

  test('id: terms, and image: terms only when allowed', () => {
    expect(parseQuery('id:42 - 0.5:"people"')).toEqual([{ imageId: 42 }, { text: 'people', weight: -0.5 }]);
    expect(parseQuery('"x" + 2:image:"a b.jpg"', { allowImagePaths: true })).toEqual([{ text: 'x' }, { image: 'a b.jpg', weight: 2 }]);
    expect(() => parseQuery('"x" + image:"/etc/passwd"')).toThrow(QuerySyntaxError);
  });

  const bad: [string, number][] = [
    ['', 0],
    ['   ', 0],
    ['"beach', 0],
    ['"beach" "sunset"', 8],
    ['"beach" +', 9],
    ['"beach" + ', 10],
    ['""', 0],
    ['"a" + " "', 6],
    ['0:"a"', 0],
    ['2"a"', 1],
    ['"a" * "b"', 4],
    ['beach + "sunset"', 0],
    ['foo:"x"', 0],
    ['id:x + "a"', 3],
  ];
  test.each(bad)('malformed %j → QuerySyntaxError at %i', (text, pos) => {
    let err: unknown;
    try {
      parseQuery(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(QuerySyntaxError);
    expect((err as QuerySyntaxError).code).toBe('QUERY_SYNTAX');
    expect((err as QuerySyntaxError).position).toBe(pos);
  });

  test('bounds: term count and length', () => {
    expect(() => parseQuery(Array.from({ length: 33 }, () => '"a"').join(' + '))).toThrow(/at most 32/);
    expect(() => parseQuery('x'.repeat(10_001))).toThrow(QuerySyntaxError);
  });

  test('formatQuery round-trips', () => {
    const q = '"beach" + 2:"sunset" - 0.5:"people" + id:7';
    expect(parseQuery(formatQuery(parseQuery(q)))).toEqual(parseQuery(q));
    expect(formatQuery(parseQuery(q))).toBe(q);
  });
});
