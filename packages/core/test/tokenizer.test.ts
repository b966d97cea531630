import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bytesToUnicode, ClipTokenizer, loadTokenizer, tokenize } from '../src/clip/tokenizer.js';
import { cleanText, pyHtmlUnescape, whitespaceClean } from '../src/clip/text-clean.js';
import { smallTokenizerJson } from '../src/model-generator/small-vocab.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const MERGES = path.resolve(here, '../../../../shared/clip/bpe_simple_vocab_16e6.txt.gz');
const hasMerges = existsSync(MERGES);
const reference = JSON.parse(readFileSync(path.join(here, 'fixtures/tokenizer/reference.json'), 'utf8')) as { cases: { text: string; ids: number[] }[] };

describe.skipIf(!hasMerges)(`tokenizer on the original CLIP vocabulary (needs ${MERGES}; skipped when that shared file is absent)`, () => {
  const load = () => ClipTokenizer.fromMergesFile(MERGES);

  it('reproduces the two reference results from the issue', async () => {
    const tok = await loadTokenizer(MERGES);
    expect(tokenize(['a photo of a cat'], tok, { padTo: 'context' }).inputIds.slice(0, 8)).toEqual(BigInt64Array.from([49406n, 320n, 1125n, 539n, 320n, 2368n, 49407n, 0n]));
    expect(tok.encodeWithSpecialTokens('a photo of a cat')).toEqual([49406, 320, 1125, 539, 320, 2368, 49407]);
    expect(tok.encodeWithSpecialTokens('A dog sitting on a bench')).toEqual([49406, 320, 1929, 4919, 525, 320, 8771, 49407]);
    expect(tok.vocabSize).toBe(49408);
  });

  it('matches the reference simple_tokenizer on every fixture text', async () => {
    const tok = await load();
    expect(reference.cases.length).toBeGreaterThan(50);
    for (const c of reference.cases) expect(tok.encodeWithSpecialTokens(c.text), JSON.stringify(c.text)).toEqual(c.ids);
  });

  it('reads the same vocabulary from a Hugging Face tokenizer.json (vocab + merges)', async () => {
    const tok = await load();
    const lines = gunzipSync(readFileSync(MERGES)).toString('utf8').split('\n').slice(1, 49152 - 256 - 2 + 1);
    const merges = lines.filter((l) => l.trim().length > 0);
    const syms = bytesToUnicode();
    expect(syms).toHaveLength(256);
    // Build tokenizer.json the way the hub's CLIP repositories lay it out (merges as [a, b] pairs, newer style).
    const vocab: Record<string, number> = {};
    const fromMerges = ClipTokenizer.fromMergesText(gunzipSync(readFileSync(MERGES)).toString('utf8'));
    // Recover the vocabulary order: byte symbols, with </w>, merges, specials.
    const order: number[] = [];
    for (let b = 0x21; b <= 0x7e; b++) order.push(b);
    for (let b = 0xa1; b <= 0xac; b++) order.push(b);
    for (let b = 0xae; b <= 0xff; b++) order.push(b);
    for (let b = 0; b < 256; b++) if (!order.includes(b)) order.push(b);
    const base = order.map((b) => syms[b]!);
    [...base, ...base.map((s) => `${s}</w>`), ...merges.map((m) => m.replace(' ', ''))].forEach((t, i) => (vocab[t] = i));
    const json = {
      added_tokens: [
        { id: 49406, content: '<|startoftext|>', special: true },
        { id: 49407, content: '<|endoftext|>', special: true },
      ],
      model: { type: 'BPE', vocab, merges: merges.map((m) => m.split(' ')), unk_token: '<|endoftext|>', end_of_word_suffix: '</w>' },
    };
    const fromJson = ClipTokenizer.fromTokenizerJson(json);
    for (const c of reference.cases) {
      expect(fromJson.encodeWithSpecialTokens(c.text)).toEqual(c.ids);
      expect(fromMerges.encodeWithSpecialTokens(c.text)).toEqual(tok.encodeWithSpecialTokens(c.text));
    }
  });

  it('truncates to 77 tokens keeping the end token, and pads batches to the longest text', async () => {
    const tok = await load();
    const long = tok.encodeWithSpecialTokens('word '.repeat(200));
    expect(long).toHaveLength(77);
    expect(long[0]).toBe(49406);
    expect(long[76]).toBe(49407);
    const batch = tok.tokenize(['a photo of a cat', 'a dog']);
    expect(batch.sequenceLength).toBe(7);
    expect(batch.lengths).toEqual([7, 4]);
    expect(Array.from(batch.inputIds.slice(7, 14), Number)).toEqual([49406, 320, 1929, 49407, 0, 0, 0]);
    expect(Array.from(batch.attentionMask.slice(7, 14), Number)).toEqual([1, 1, 1, 1, 0, 0, 0]);
    const full = tok.tokenize(['a dog'], { padTo: 'context' });
    expect(full.sequenceLength).toBe(77);
    expect(full.inputIds).toHaveLength(77);
  });
});

describe('CLIP text clean-up', () => {
  it('unescapes HTML like Python html.unescape, including legacy entities without ";"', () => {
    expect(pyHtmlUnescape('&amp; &lt;b&gt; &#39;x&#39; &#x263A;')).toBe("& <b> 'x' ☺");
    expect(pyHtmlUnescape('&ampx &notit; &notin;')).toBe('&x ¬it; ∉');
    expect(pyHtmlUnescape('&#0; &#128; &#x110000; &#1;')).toBe('\ufffd € \ufffd ');
    expect(pyHtmlUnescape('&unknownentity; & alone')).toBe('&unknownentity; & alone');
  });

  it('applies ftfy fixes, collapses whitespace and lower-cases', () => {
    expect(cleanText('  ＬＯＵＤ　ＮＯＩＳＥＳ  ')).toBe('loud noises');
    expect(cleanText('don’t “quote” ﬁne')).toBe(`don't "quote" fine`);
    expect(cleanText('fish &amp;amp; chips')).toBe('fish & chips');
    expect(cleanText('cafÃ© doesnÃ¢â‚¬â„¢t')).toBe("café doesn't");
    // U+0085 is a C1 control: ftfy reads it as Windows-1252 (an ellipsis), as the reference does.
    expect(cleanText('a\u00a0b\u2003c\u0085d\tе')).toBe('a b c…d е');
    expect(cleanText('red\u001b[31m text\u0000')).toBe('red text');
    expect(whitespaceClean(' \n a  b \u001f')).toBe('a b');
  });
});

describe('tokenizer on a generated bundle vocabulary (no shared files needed)', () => {
  it('tokenizes with the small BPE vocabulary, special ids 49406/49407', () => {
    const tok = ClipTokenizer.fromTokenizerJson(smallTokenizerJson());
    const ids = tok.encodeWithSpecialTokens('A photo of a cat!');
    expect(ids[0]).toBe(49406);
    expect(ids[ids.length - 1]).toBe(49407);
    // Merges learnt from the built-in corpus make "photo" a few tokens, never one per letter.
    const photo = tok.encode('photo');
    expect(photo.length).toBeLessThan(5);
    expect(Math.max(...tok.encode('😀 emoji survive as bytes'))).toBeLessThan(49406);
    expect(tok.encodeWithSpecialTokens('x'.repeat(500))).toHaveLength(77);
  });

  it('rejects a tokenizer.json without a BPE model', () => {
    expect(() => ClipTokenizer.fromTokenizerJson({ model: { type: 'WordPiece', vocab: {} } })).toThrow(/BPE/);
    expect(() => ClipTokenizer.fromTokenizerJson({ model: { type: 'BPE', vocab: { a: 0 }, merges: [] } })).toThrow(/startoftext/);
  });
});
