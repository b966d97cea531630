import type { Embedder, ImageInput } from '../embedder.js';
import { DimensionMismatchError, ImageDecodeError, InvalidArgumentError, NotFoundError, QuerySyntaxError } from '../errors.js';
import type { QueryTerm } from './types.js';

/** Most terms one combined query may hold. */
export const MAX_QUERY_TERMS = 32;
/** Longest query text accepted by {@link parseQuery}, in characters. */
export const MAX_QUERY_LENGTH = 10_000;

/** Options for {@link parseQuery}. */
export interface ParseQueryOptions {
  /**
   * Accept `image:"path"` terms (an image file on this machine). Off by default: a query typed
   * into a web page must not name server-side files. The CLI turns it on.
   */
  allowImagePaths?: boolean;
}

const OPEN_QUOTES = new Set(['"', '\u201c']);
const CLOSE_QUOTES = new Set(['"', '\u201d']);
const WEIGHT_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/;
/** An unquoted query made only of `id:N` terms (optionally weighted, joined by + or -): `id:42`, `id:42 - id:7`. */
const BARE_IDS_RE = /^\s*[+-]?\s*(?:(?:\d+(?:\.\d*)?|\.\d+):)?id:\d+(?:\s*[+-]\s*(?:(?:\d+(?:\.\d*)?|\.\d+):)?id:\d+)*\s*$/i;

/**
 * Parses a query typed by a user into weighted terms.
 *
 * - Text without any double quote is one text term: `a dog on a bench`, `t-shirt + jeans`;
 *   except a query of `id:N` terms only (`id:42`, `id:42 - id:7`), which is combined as below.
 * - Otherwise the text is a combined query: quoted terms joined by `+` or `-`, each with an
 *   optional weight prefix `w:` — e.g. `"beach" + "sunset" - "people"`, `2:"sunset"`,
 *   `0.5:"x" - 2:"y"`. A leading `-` negates the first term. Inside quotes, `\"` and `\\` escape.
 * - `id:42` is the stored embedding of catalog image 42; `image:"photo.jpg"` an image file
 *   (only with `allowImagePaths`).
 *
 * Weights are finite and non-zero; the effective weight is the operator's sign × the weight.
 * Throws `QuerySyntaxError` (with the character position) on malformed input.
 */
export function parseQuery(text: string, options: ParseQueryOptions = {}): QueryTerm[] {
  if (typeof text !== 'string') throw new QuerySyntaxError('the query must be a string', 0);
  if (text.length > MAX_QUERY_LENGTH) {
    throw new QuerySyntaxError(`the query is longer than ${MAX_QUERY_LENGTH} characters`, MAX_QUERY_LENGTH);
  }
  if (![...OPEN_QUOTES, ...CLOSE_QUOTES].some((q) => text.includes(q)) && !BARE_IDS_RE.test(text)) {
    const plain = text.trim();
    if (plain === '') throw new QuerySyntaxError('the query is empty', 0);
    return [{ text: plain }];
  }
  return new Parser(text, options).parse();
}

class Parser {
  private pos = 0;

  constructor(
    private readonly src: string,
    private readonly options: ParseQueryOptions,
  ) {}

  parse(): QueryTerm[] {
    const terms: QueryTerm[] = [];
    this.skipWs();
    let sign = 1;
    if (this.peek() === '+' || this.peek() === '-') {
      // Only an operator if a weight or atom follows (a signed weight like -2:"x" is also fine).
      if (!WEIGHT_RE.test(this.src.slice(this.pos))) {
        sign = this.peek() === '-' ? -1 : 1;
        this.pos++;
        this.skipWs();
      }
    }
    for (;;) {
      if (this.pos >= this.src.length) {
        throw new QuerySyntaxError(terms.length === 0 ? 'the query is empty' : 'expected a term after the operator', this.pos);
      }
      terms.push(this.term(sign));
      if (terms.length > MAX_QUERY_TERMS) throw new QuerySyntaxError(`a query may combine at most ${MAX_QUERY_TERMS} terms`, this.pos);
      this.skipWs();
      if (this.pos >= this.src.length) return terms;
      const op = this.peek();
      if (op !== '+' && op !== '-') {
        throw new QuerySyntaxError(`expected + or - between terms, found ${JSON.stringify(op)}`, this.pos);
      }
      sign = op === '-' ? -1 : 1;
      this.pos++;
      this.skipWs();
    }
  }

  private term(sign: number): QueryTerm {
    const start = this.pos;
    let weight = 1;
    const m = WEIGHT_RE.exec(this.src.slice(this.pos));
    if (m && this.src[this.pos + m[0].length] === ':') {
      weight = Number(m[0]);
      if (!Number.isFinite(weight) || weight === 0) {
        throw new QuerySyntaxError(`weight ${m[0]} must be a finite, non-zero number`, start);
      }
      this.pos += m[0].length + 1;
    } else if (m) {
      throw new QuerySyntaxError(`expected ":" after the weight ${m[0]} (e.g. ${m[0]}:"sunset")`, this.pos + m[0].length);
    }
    const w = sign * weight;
    const withWeight = <T extends QueryTerm>(t: T): T => (w === 1 ? t : { ...t, weight: w });
    const c = this.peek();
    if (OPEN_QUOTES.has(c)) {
      const textStart = this.pos;
      const text = this.quoted().trim();
      if (text === '') throw new QuerySyntaxError('empty term ""', textStart);
      return withWeight({ text });
    }
    const kw = /^([a-zA-Z]+):/.exec(this.src.slice(this.pos));
    if (kw) {
      const name = kw[1]!.toLowerCase();
      const kwPos = this.pos;
      this.pos += kw[0].length;
      if (name === 'id') {
        const num = /^\d+/.exec(this.src.slice(this.pos));
        const id = num ? Number(num[0]) : NaN;
        if (!num || !Number.isSafeInteger(id)) throw new QuerySyntaxError('id: must be followed by an image id, e.g. id:42', this.pos);
        this.pos += num[0].length;
        return withWeight({ imageId: id });
      }
      if (name === 'image' || name === 'img') {
        if (!this.options.allowImagePaths) throw new QuerySyntaxError('image:"path" terms are not allowed here', kwPos);
        if (!OPEN_QUOTES.has(this.peek())) throw new QuerySyntaxError('image: must be followed by a quoted path, e.g. image:"cat.jpg"', this.pos);
        const p = this.pos;
        const file = this.quoted();
        if (file === '') throw new QuerySyntaxError('empty image path', p);
        return withWeight({ image: file });
      }
      throw new QuerySyntaxError(`unknown term type "${kw[1]}:" (use "text", id:N or image:"path")`, kwPos);
    }
    const word = /^\S+/.exec(this.src.slice(this.pos))?.[0] ?? c;
    throw new QuerySyntaxError(`expected a quoted term, found ${JSON.stringify(word)}`, this.pos);
  }

  /** Reads a quoted string starting at the opening quote; returns its unescaped content. */
  private quoted(): string {
    const open = this.pos;
    this.pos++;
    let out = '';
    while (this.pos < this.src.length) {
      const c = this.src[this.pos]!;
      if (c === '\\' && this.pos + 1 < this.src.length) {
        out += this.src[this.pos + 1];
        this.pos += 2;
        continue;
      }
      if (CLOSE_QUOTES.has(c)) {
        this.pos++;
        return out;
      }
      out += c;
      this.pos++;
    }
    throw new QuerySyntaxError('unterminated quote', open);
  }

  private peek(): string {
    return this.src[this.pos] ?? '';
  }

  private skipWs(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos]!)) this.pos++;
  }
}

/** Formats terms back into the combined-query syntax (for display and logs). */
export function formatQuery(terms: readonly QueryTerm[]): string {
  return terms
    .map((t, i) => {
      const w = t.weight ?? 1;
      const op = i === 0 ? (w < 0 ? '-' : '') : w < 0 ? ' - ' : ' + ';
      const abs = Math.abs(w);
      const weight = abs === 1 ? '' : `${abs}:`;
      const atom =
        'text' in t ? JSON.stringify(t.text) : 'imageId' in t ? `id:${t.imageId}` : typeof t.image === 'string' ? `image:${JSON.stringify(t.image)}` : 'image:<bytes>';
      return `${op}${weight}${atom}`;
    })
    .join('');
}

/**
 * Validates query terms given as objects (a string query is checked by {@link parseQuery}): 1..
 * {@link MAX_QUERY_TERMS} terms, each with exactly one of `text`, `image`, `imageId` and an optional
 * finite, non-zero weight. Returns `terms`. Throws `InvalidArgumentError`, or `ImageDecodeError`
 * for an empty image.
 */
export function checkQueryTerms(terms: QueryTerm[]): QueryTerm[] {
  if (!Array.isArray(terms) || terms.length === 0) throw new InvalidArgumentError('a query needs at least one term');
  if (terms.length > MAX_QUERY_TERMS) throw new InvalidArgumentError(`a query may combine at most ${MAX_QUERY_TERMS} terms`);
  for (const [i, t] of terms.entries()) {
    const kinds = ['text', 'image', 'imageId'].filter((k) => t && typeof t === 'object' && k in t);
    if (kinds.length !== 1) throw new InvalidArgumentError(`query term ${i} must have exactly one of text, image, imageId`);
    const w = t.weight;
    if (w !== undefined && (typeof w !== 'number' || !Number.isFinite(w) || w === 0)) {
      throw new InvalidArgumentError(`query term ${i} has weight ${String(w)}; weights are finite and non-zero`);
    }
    if ('text' in t && (typeof t.text !== 'string' || t.text.trim() === '')) throw new InvalidArgumentError(`query term ${i} has empty text`);
    if ('image' in t && typeof t.image !== 'string' && !(t.image instanceof Uint8Array)) {
      throw new InvalidArgumentError(`query term ${i}: image must be a file path or the image bytes`);
    }
    if ('image' in t && t.image.length === 0) throw new ImageDecodeError(typeof t.image === 'string' ? 'image' : 'uploaded image', 'empty', 'the image is empty');
    if ('imageId' in t && (!Number.isSafeInteger(t.imageId) || t.imageId < 0)) throw new InvalidArgumentError(`query term ${i} has an invalid image id`);
  }
  return terms;
}

/** The catalog ids named by `imageId` terms (a search leaves these images out of its results). */
export function queryImageIds(terms: readonly QueryTerm[]): Set<number> {
  return new Set(terms.flatMap((t) => ('imageId' in t ? [t.imageId] : [])));
}

/** Where {@link composeQueryVector} gets the embedding of each kind of term. */
export interface QueryEmbeddingSources {
  /** Dimension of the library's vectors; every term's embedding must have it. */
  dimension: number;
  /** The model; called only when the query has text or image terms (so `id:` queries never load it). */
  embedder(): Promise<Embedder>;
  /**
   * The embeddings of a query's texts, one row of `dimension` floats per text, in order (the
   * engine passes its cache of recent query texts). Default: `embedder.embedTexts(texts)`.
   */
  embedTexts?(embedder: Embedder, texts: readonly string[]): Promise<Float32Array>;
  /** The stored (L2-normalised) embedding of catalog image `id`, or undefined when it has none. */
  storedEmbedding(id: number): Float32Array | undefined;
}

/**
 * Turns checked query terms into one query vector: each term's embedding (texts through the text
 * tower in one batch, images through the image tower in one batch, `imageId` terms from the
 * stored embedding) times its weight (default 1; negative weights subtract), summed, then
 * L2-normalised. Returns a new `Float32Array` of `sources.dimension` floats owned by the caller.
 *
 * Throws `DimensionMismatchError` (the model's or a stored vector's size is not `dimension`), the
 * embedder's `ImageDecodeError` for an unusable image term, `NotFoundError` for an `imageId` with
 * no stored embedding, `InvalidArgumentError` when the weighted sum is (near) zero — terms that
 * cancel each other out have no direction to search in.
 */
export async function composeQueryVector(terms: readonly QueryTerm[], sources: QueryEmbeddingSources): Promise<Float32Array> {
  const dim = sources.dimension;
  const sum = new Float32Array(dim);
  const add = (v: Float32Array, offset: number, w: number): void => {
    if (v.length - offset < dim) throw new DimensionMismatchError(dim, v.length - offset, 'query embedding');
    for (let j = 0; j < dim; j++) sum[j]! += w * v[offset + j]!;
  };
  const texts = terms.filter((t): t is Extract<QueryTerm, { text: string }> => 'text' in t);
  const images = terms.filter((t): t is Extract<QueryTerm, { image: ImageInput }> => 'image' in t);
  if (texts.length > 0 || images.length > 0) {
    const embedder = await sources.embedder();
    if (embedder.dimension !== dim) throw new DimensionMismatchError(dim, embedder.dimension, 'model embedding');
    if (texts.length > 0) {
      const list = texts.map((t) => t.text);
      const v = await (sources.embedTexts ? sources.embedTexts(embedder, list) : embedder.embedTexts(list));
      texts.forEach((t, i) => add(v, i * dim, t.weight ?? 1));
    }
    if (images.length > 0) {
      const res = await embedder.embedImages(images.map((t) => t.image));
      images.forEach((t, i) => {
        const err = res.errors[i];
        if (err) throw err;
        add(res.vectors, i * dim, t.weight ?? 1);
      });
    }
  }
  for (const t of terms) {
    if (!('imageId' in t)) continue;
    const v = sources.storedEmbedding(t.imageId);
    if (!v) throw new NotFoundError(`indexed image ${t.imageId}`);
    add(v, 0, t.weight ?? 1);
  }
  let norm = 0;
  for (let j = 0; j < dim; j++) norm += sum[j]! * sum[j]!;
  norm = Math.sqrt(norm);
  if (!(norm > 1e-6)) throw new InvalidArgumentError('the query terms cancel each other out (their weighted sum is zero)');
  for (let j = 0; j < dim; j++) sum[j]! /= norm;
  return sum;
}
