// CLIP byte-level BPE tokenizer, a port of openai/CLIP's simple_tokenizer.py (MIT) that reads its
// vocabulary and merges from a bundle's tokenizer.json (or from the original merges file).
//
// Hand-written rather than @huggingface/tokenizers: the hub's tokenizer.json describes a
// normalizer (NFC, whitespace, lowercase) without CLIP's ftfy.fix_text and double
// html.unescape, so e.g. "&amp;", "’" or "ﬁ" tokenize differently from the reference.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ModelBundleError } from '../errors.js';
import { cleanText, PY_WS_CLASS } from './text-clean.js';

export const START_OF_TEXT = '<|startoftext|>';
export const END_OF_TEXT = '<|endoftext|>';
/** CLIP's context length (tokens, including start and end). */
export const DEFAULT_CONTEXT_LENGTH = 77;

/** GPT-2/CLIP byte → printable unicode symbol table (index = byte value). */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const table = new Array<string>(256);
  bs.forEach((b, i) => (table[b] = String.fromCodePoint(cs[i]!)));
  return table;
}

/** The base vocabulary in CLIP order: the 256 byte symbols, then the same with `</w>`. */
export function byteSymbolsInVocabOrder(): string[] {
  const table = bytesToUnicode();
  const order: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) order.push(b);
  for (let b = 0xa1; b <= 0xac; b++) order.push(b);
  for (let b = 0xae; b <= 0xff; b++) order.push(b);
  for (let b = 0; b < 256; b++) if (!order.includes(b)) order.push(b);
  const symbols = order.map((b) => table[b]!);
  return [...symbols, ...symbols.map((s) => `${s}</w>`)];
}

const TOKEN_RE = new RegExp(
  `<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^${PY_WS_CLASS}\\p{L}\\p{N}]+`,
  'gu',
);
const BYTE_SYMBOLS = bytesToUnicode();
const CACHE_LIMIT = 20_000;

/** Batch of token ids ready for the text tower. */
export interface TokenizedBatch {
  /** `count × sequenceLength` int64 ids, zero-padded after the end token. */
  inputIds: BigInt64Array;
  /** `count × sequenceLength`, 1 for real tokens and 0 for padding. */
  attentionMask: BigInt64Array;
  count: number;
  /** Padded length: the longest text's token count, or the context length. */
  sequenceLength: number;
  /** Token count of each text (start and end included). */
  lengths: number[];
}

export interface TokenizeOptions {
  /** `longest` (default): pad to the longest text in the batch; `context`: pad to the context length. */
  padTo?: 'longest' | 'context';
}

/**
 * CLIP tokenizer: clean-up (ftfy, HTML entities, whitespace, lower case), the CLIP regex, byte-level
 * BPE with `</w>` word ends, start/end tokens, truncation to the context length keeping the end token.
 */
export class ClipTokenizer {
  readonly startId: number;
  readonly endId: number;
  readonly contextLength: number;
  private readonly encoder: Map<string, number>;
  private readonly ranks: Map<string, number>;
  private readonly unkId: number;
  private readonly cache = new Map<string, string[]>();

  private constructor(vocab: Map<string, number>, merges: [string, string][], contextLength: number, unk?: string) {
    this.encoder = vocab;
    this.ranks = new Map(merges.map(([a, b], i) => [`${a} ${b}`, i]));
    const start = vocab.get(START_OF_TEXT);
    const end = vocab.get(END_OF_TEXT);
    if (start === undefined || end === undefined) {
      throw new ModelBundleError(`tokenizer vocabulary lacks ${START_OF_TEXT} or ${END_OF_TEXT}`);
    }
    if (!Number.isInteger(contextLength) || contextLength < 2) throw new ModelBundleError(`invalid context length ${contextLength}`);
    this.startId = start;
    this.endId = end;
    this.unkId = (unk === undefined ? undefined : vocab.get(unk)) ?? end;
    this.contextLength = contextLength;
  }

  /** Number of entries in the vocabulary. */
  get vocabSize(): number {
    return this.encoder.size;
  }

  /**
   * Builds the tokenizer from the original openai/CLIP merges file content (`bpe_simple_vocab_16e6.txt`):
   * vocabulary = byte symbols, the same with `</w>`, the first 48 894 merges, then the two special tokens.
   */
  static fromMergesText(text: string, contextLength = DEFAULT_CONTEXT_LENGTH): ClipTokenizer {
    const lines = text.split('\n').slice(1, 49152 - 256 - 2 + 1);
    const merges = lines.map((l) => l.split(/\s+/).filter(Boolean) as [string, string]).filter((m) => m.length === 2);
    const vocabList = [...byteSymbolsInVocabOrder(), ...merges.map(([a, b]) => a + b), START_OF_TEXT, END_OF_TEXT];
    return new ClipTokenizer(new Map(vocabList.map((t, i) => [t, i])), merges, contextLength);
  }

  /** Reads `bpe_simple_vocab_16e6.txt(.gz)`. */
  static async fromMergesFile(file: string, contextLength = DEFAULT_CONTEXT_LENGTH): Promise<ClipTokenizer> {
    let data = await readFile(file);
    if (data[0] === 0x1f && data[1] === 0x8b) data = gunzipSync(data);
    return ClipTokenizer.fromMergesText(data.toString('utf8'), contextLength);
  }

  /** Builds the tokenizer from a parsed Hugging Face `tokenizer.json` (BPE model: vocab + merges). */
  static fromTokenizerJson(json: unknown, contextLength = DEFAULT_CONTEXT_LENGTH): ClipTokenizer {
    const model = (json as { model?: { type?: string; vocab?: unknown; merges?: unknown; unk_token?: unknown } } | null)?.model;
    if (!model || typeof model.vocab !== 'object' || model.vocab === null || !Array.isArray(model.merges)) {
      throw new ModelBundleError('tokenizer.json has no BPE model (model.vocab and model.merges)');
    }
    if (model.type !== undefined && model.type !== 'BPE') throw new ModelBundleError(`tokenizer.json model type is ${String(model.type)}, expected BPE`);
    const vocab = new Map<string, number>();
    for (const [token, id] of Object.entries(model.vocab as Record<string, unknown>)) {
      if (typeof id !== 'number') throw new ModelBundleError(`tokenizer.json vocab entry ${JSON.stringify(token)} is not a number`);
      vocab.set(token, id);
    }
    const added = (json as { added_tokens?: { id?: unknown; content?: unknown }[] }).added_tokens;
    if (Array.isArray(added)) {
      for (const t of added) if (typeof t.content === 'string' && typeof t.id === 'number') vocab.set(t.content, t.id);
    }
    const merges = (model.merges as unknown[]).map((m, i): [string, string] => {
      const pair = typeof m === 'string' ? m.split(' ') : m;
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
        throw new ModelBundleError(`tokenizer.json merge #${i} is malformed`);
      }
      return [pair[0], pair[1]];
    });
    return new ClipTokenizer(vocab, merges, contextLength, typeof model.unk_token === 'string' ? model.unk_token : undefined);
  }

  private bpe(token: string): string[] {
    const cached = this.cache.get(token);
    if (cached) return cached;
    const chars = Array.from(token);
    let word = [...chars.slice(0, -1), `${chars[chars.length - 1]!}</w>`];
    while (word.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const r = this.ranks.get(`${word[i]!} ${word[i + 1]!}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      const first = word[best]!;
      const second = word[best + 1]!;
      const merged: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (word[i] === first && i < word.length - 1 && word[i + 1] === second) {
          merged.push(first + second);
          i += 2;
        } else {
          merged.push(word[i]!);
          i += 1;
        }
      }
      word = merged;
    }
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(token, word);
    return word;
  }

  /** BPE ids of `text` after CLIP's clean-up, without start/end tokens and without truncation. */
  encode(text: string): number[] {
    const ids: number[] = [];
    const encoder = new TextEncoder();
    for (const m of cleanText(text).matchAll(TOKEN_RE)) {
      const piece = m[0];
      if (piece === START_OF_TEXT || piece === END_OF_TEXT) {
        ids.push(this.encoder.get(piece)!);
        continue;
      }
      let symbols = '';
      for (const b of encoder.encode(piece)) symbols += BYTE_SYMBOLS[b]!;
      for (const t of this.bpe(symbols)) ids.push(this.encoder.get(t) ?? this.unkId);
    }
    return ids;
  }

  /** `[start, …ids, end]`, truncated to the context length with the end token kept last. */
  encodeWithSpecialTokens(text: string): number[] {
    const ids = [this.startId, ...this.encode(text), this.endId];
    if (ids.length > this.contextLength) {
      ids.length = this.contextLength;
      ids[this.contextLength - 1] = this.endId;
    }
    return ids;
  }

  /** Tokenizes a batch into zero-padded int64 rows (see {@link TokenizeOptions.padTo}). */
  tokenize(texts: readonly string[], options: TokenizeOptions = {}): TokenizedBatch {
    const rows = texts.map((t) => this.encodeWithSpecialTokens(t));
    const longest = rows.reduce((m, r) => Math.max(m, r.length), 0);
    const seq = options.padTo === 'context' ? this.contextLength : Math.max(longest, 2);
    const inputIds = new BigInt64Array(rows.length * seq);
    const attentionMask = new BigInt64Array(rows.length * seq);
    rows.forEach((row, r) => {
      for (let i = 0; i < row.length; i++) {
        inputIds[r * seq + i] = BigInt(row[i]!);
        attentionMask[r * seq + i] = 1n;
      }
    });
    return { inputIds, attentionMask, count: rows.length, sequenceLength: seq, lengths: rows.map((r) => r.length) };
  }
}

/** Tokenizes texts with `tokenizer` (see {@link ClipTokenizer.tokenize}). */
export function tokenize(texts: readonly string[], tokenizer: ClipTokenizer, options: TokenizeOptions = {}): TokenizedBatch {
  return tokenizer.tokenize(texts, options);
}

/**
 * Loads a tokenizer from a bundle folder (its tokenizer.json), a tokenizer.json file, or the
 * original openai/CLIP merges file (`bpe_simple_vocab_16e6.txt` or `.txt.gz`).
 */
export async function loadTokenizer(source: string, contextLength = DEFAULT_CONTEXT_LENGTH): Promise<ClipTokenizer> {
  let file = source;
  try {
    if ((await stat(source)).isDirectory()) file = path.join(source, 'tokenizer.json');
  } catch (err) {
    throw new ModelBundleError(`tokenizer source ${source} does not exist`, { cause: err });
  }
  if (/\.json$/i.test(file)) {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      throw new ModelBundleError(`cannot read ${file} as JSON`, { cause: err });
    }
    return ClipTokenizer.fromTokenizerJson(json, contextLength);
  }
  return ClipTokenizer.fromMergesFile(file, contextLength);
}
