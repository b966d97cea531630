import { QuerySyntaxError } from '../errors.js';
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
