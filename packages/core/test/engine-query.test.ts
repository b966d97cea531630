import { describe, expect, test } from 'vitest';
import {
  DimensionMismatchError,
  ImageDecodeError,
  InvalidArgumentError,
  NotFoundError,
  QuerySyntaxError,
  type Embedder,
  type ImageEmbeddings,
  type ImageInput,
} from '@pixsearch/core';
import { checkQueryTerms, composeQueryVector, formatQuery, parseQuery, queryImageIds, type QueryEmbeddingSources, type QueryTerm } from '@pixsearch/core/engine';

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

/**
 * An embedder over a fixed table: each text or image path has a known vector, so the composed
 * vector can be checked exactly. Records every call (the batches the composition asks for).
 */
class TableEmbedder implements Embedder {
  readonly modelId = 'test/table';
  readonly calls: { kind: 'text' | 'image'; inputs: string[] }[] = [];
  constructor(
    readonly dimension: number,
    private readonly table: Record<string, number[]>,
  ) {}

  private row(key: string): number[] {
    const v = this.table[key];
    if (!v) throw new Error(`no vector for ${key}`);
    return v;
  }

  async embedTexts(texts: readonly string[]): Promise<Float32Array> {
    this.calls.push({ kind: 'text', inputs: [...texts] });
    return Float32Array.from(texts.flatMap((t) => this.row(t)));
  }

  async embedImages(inputs: readonly ImageInput[]): Promise<ImageEmbeddings> {
    const names = inputs.map((i) => (typeof i === 'string' ? i : 'bytes'));
    this.calls.push({ kind: 'image', inputs: names });
    const vectors = new Float32Array(inputs.length * this.dimension);
    const errors: ImageEmbeddings['errors'] = [];
    names.forEach((n, i) => {
      const v = this.table[n];
      if (v) vectors.set(v, i * this.dimension);
      errors.push(v ? undefined : new ImageDecodeError(n, 'decode-failed', `cannot decode ${n}`));
    });
    return { vectors, errors, sizes: names.map(() => ({ width: 1, height: 1, format: 'png' })) };
  }

  async close(): Promise<void> {}
}

const TABLE: Record<string, number[]> = {
  beach: [1, 0, 0, 0],
  sunset: [0, 1, 0, 0],
  people: [0, 0, 1, 0],
  'cat.jpg': [0, 0, 0, 1],
};

function sources(embedder: Embedder, stored: Record<number, number[]> = {}, extra: Partial<QueryEmbeddingSources> = {}): QueryEmbeddingSources {
  return {
    dimension: 4,
    embedder: async () => embedder,
    storedEmbedding: (id) => (stored[id] ? Float32Array.from(stored[id]) : undefined),
    ...extra,
  };
}

function unit(v: number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

describe('composeQueryVector', () => {
  test('weighted sum of the terms, negatives subtract, renormalised', async () => {
    const e = new TableEmbedder(4, TABLE);
    const v = await composeQueryVector(parseQuery('2:"beach" + "sunset" - 0.5:"people"'), sources(e));
    expect([...v].map((x) => Number(x.toFixed(6)))).toEqual(unit([2, 1, -0.5, 0]).map((x) => Number(x.toFixed(6))));
    expect(Math.hypot(...v)).toBeCloseTo(1, 6);
    // The texts go to the model in one batch, in query order.
    expect(e.calls).toEqual([{ kind: 'text', inputs: ['beach', 'sunset', 'people'] }]);
  });

  test('text, image and id terms combine; the stored vector is not modified', async () => {
    const e = new TableEmbedder(4, TABLE);
    const stored = { 7: [0, 0, 1, 0] };
    const s = sources(e, stored);
    const kept = Float32Array.from(stored[7]);
    s.storedEmbedding = (id) => (id === 7 ? kept : undefined);
    const terms: QueryTerm[] = [{ text: 'beach' }, { image: 'cat.jpg', weight: 3 }, { imageId: 7, weight: -2 }];
    const v = await composeQueryVector(terms, s);
    expect([...v].map((x) => Number(x.toFixed(6)))).toEqual(unit([1, 0, -2, 3]).map((x) => Number(x.toFixed(6))));
    expect([...kept]).toEqual([0, 0, 1, 0]);
    expect(e.calls.map((c) => c.kind)).toEqual(['text', 'image']);
  });

  test('id-only queries never load the model', async () => {
    const s = sources(new TableEmbedder(4, TABLE), { 1: [1, 0, 0, 0], 2: [0, 1, 0, 0] });
    s.embedder = () => Promise.reject(new Error('the model must not load'));
    const v = await composeQueryVector([{ imageId: 1 }, { imageId: 2 }], s);
    expect([...v]).toEqual([Math.SQRT1_2, Math.SQRT1_2, 0, 0].map((x) => Math.fround(x)));
  });

  test('texts go through the embedTexts source when given (the engine\'s cache)', async () => {
    const e = new TableEmbedder(4, TABLE);
    const seen: string[][] = [];
    const s = sources(e, {}, {
      embedTexts: async (embedder, texts) => {
        seen.push([...texts]);
        return embedder.embedTexts(texts);
      },
    });
    await composeQueryVector([{ text: 'beach' }, { text: 'sunset' }], s);
    expect(seen).toEqual([['beach', 'sunset']]);
  });

  test('terms that cancel out are refused', async () => {
    const e = new TableEmbedder(4, TABLE);
    await expect(composeQueryVector(parseQuery('"beach" - "beach"'), sources(e))).rejects.toThrow(InvalidArgumentError);
    await expect(composeQueryVector(parseQuery('"beach" - "beach"'), sources(e))).rejects.toThrow(/cancel/);
  });

  test('errors: unknown id, undecodable image, dimensions that disagree', async () => {
    const e = new TableEmbedder(4, TABLE);
    await expect(composeQueryVector([{ imageId: 9 }], sources(e))).rejects.toBeInstanceOf(NotFoundError);
    await expect(composeQueryVector([{ image: 'broken.png' }], sources(e))).rejects.toBeInstanceOf(ImageDecodeError);
    await expect(composeQueryVector([{ imageId: 3 }], sources(e, { 3: [1, 0] }))).rejects.toBeInstanceOf(DimensionMismatchError);
    const wide = new TableEmbedder(8, { beach: [1, 0, 0, 0, 0, 0, 0, 0] });
    await expect(composeQueryVector([{ text: 'beach' }], sources(wide))).rejects.toBeInstanceOf(DimensionMismatchError);
  });
});

describe('checkQueryTerms and queryImageIds', () => {
  test('accepts well-formed terms and returns them', () => {
    const terms: QueryTerm[] = [{ text: 'a' }, { image: new Uint8Array([1]), weight: -1 }, { imageId: 0, weight: 0.5 }];
    expect(checkQueryTerms(terms)).toBe(terms);
  });

  test.each([
    ['no terms', [], InvalidArgumentError],
    ['too many terms', Array.from({ length: 33 }, () => ({ text: 'a' })), InvalidArgumentError],
    ['two kinds in one term', [{ text: 'a', imageId: 1 }], InvalidArgumentError],
    ['no kind', [{ weight: 1 }], InvalidArgumentError],
    ['zero weight', [{ text: 'a', weight: 0 }], InvalidArgumentError],
    ['infinite weight', [{ text: 'a', weight: Infinity }], InvalidArgumentError],
    ['blank text', [{ text: '  ' }], InvalidArgumentError],
    ['image of the wrong type', [{ image: 42 }], InvalidArgumentError],
    ['empty image', [{ image: new Uint8Array(0) }], ImageDecodeError],
    ['negative id', [{ imageId: -1 }], InvalidArgumentError],
    ['fractional id', [{ imageId: 1.5 }], InvalidArgumentError],
  ] as const)('refuses %s', (_name, terms, error) => {
    expect(() => checkQueryTerms(terms as unknown as QueryTerm[])).toThrow(error);
  });

  test('queryImageIds lists the ids a query names', () => {
    expect([...queryImageIds(parseQuery('id:4 - id:2 + "x"'))].sort()).toEqual([2, 4]);
    expect(queryImageIds([{ text: 'x' }]).size).toBe(0);
  });
});
