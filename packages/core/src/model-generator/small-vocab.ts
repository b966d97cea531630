// A small but valid CLIP byte-level BPE vocabulary for generated bundles: the 512 byte symbols
// (plain and with `</w>`), merges learnt from a short built-in English corpus, and the special
// tokens at CLIP's ids 49406/49407 (vocabulary size 49408, so the text tower has CLIP's shape).
// The real CLIP merges are never copied into generated bundles.
import { byteSymbolsInVocabOrder, bytesToUnicode, END_OF_TEXT, START_OF_TEXT } from '../clip/tokenizer.js';

const CORPUS = `a photo of a cat. a dog sitting on a bench. a picture of the beach at sunset with people.
a red car parked in the street. mountains covered in snow under a blue sky. a bowl of fruit on a table.
two children playing football in the park. an old building in the city at night. flowers in a garden.
a man riding a bicycle. a woman reading a book. a plate of food. a boat on the water near the shore.
the quick brown fox jumps over the lazy dog. birds flying over the sea. a cup of coffee and a laptop.`;

export const SMALL_VOCAB_SIZE = 49408;
export const START_ID = 49406;
export const END_ID = 49407;

/** Learns `count` BPE merges on the corpus, CLIP style (words end with `</w>`). */
function learnMerges(count: number): [string, string][] {
  const table = bytesToUnicode();
  const words = new Map<string, number>();
  for (const w of CORPUS.toLowerCase().match(/[a-z]+|[^\sa-z]/g) ?? []) words.set(w, (words.get(w) ?? 0) + 1);
  let split: { symbols: string[]; freq: number }[] = [...words].map(([w, freq]) => {
    const chars = [...Buffer.from(w, 'utf8')].map((b) => table[b]!);
    chars[chars.length - 1] += '</w>';
    return { symbols: chars, freq };
  });
  const merges: [string, string][] = [];
  while (merges.length < count) {
    const pairs = new Map<string, number>();
    for (const { symbols, freq } of split) {
      for (let i = 0; i < symbols.length - 1; i++) {
        const key = `${symbols[i]!} ${symbols[i + 1]!}`;
        pairs.set(key, (pairs.get(key) ?? 0) + freq);
      }
    }
    let best: string | undefined;
    let bestCount = 1;
    for (const [k, c] of pairs) if (c > bestCount || (c === bestCount && best !== undefined && k < best)) [best, bestCount] = [k, c];
    if (!best) break;
    const [a, b] = best.split(' ') as [string, string];
    merges.push([a, b]);
    split = split.map(({ symbols, freq }) => {
      const out: string[] = [];
      for (let i = 0; i < symbols.length; ) {
        if (symbols[i] === a && symbols[i + 1] === b) {
          out.push(a + b);
          i += 2;
        } else out.push(symbols[i++]!);
      }
      return { symbols: out, freq };
    });
  }
  return merges;
}

/** A Hugging Face `tokenizer.json` (CLIP layout) with the small vocabulary. */
export function smallTokenizerJson(mergeCount = 300): object {
  const merges = learnMerges(mergeCount);
  const vocab: Record<string, number> = {};
  let id = 0;
  for (const s of byteSymbolsInVocabOrder()) vocab[s] = id++;
  for (const [a, b] of merges) if (!(a + b in vocab)) vocab[a + b] = id++;
  vocab[START_OF_TEXT] = START_ID;
  vocab[END_OF_TEXT] = END_ID;
  const special = (content: string, tokenId: number) => ({
    id: tokenId,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: true,
    special: true,
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(START_OF_TEXT, START_ID), special(END_OF_TEXT, END_ID)],
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          pattern: { Regex: "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+" },
          behavior: 'Removed',
          invert: true,
        },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'RobertaProcessing',
      sep: [END_OF_TEXT, END_ID],
      cls: [START_OF_TEXT, START_ID],
      trim_offsets: false,
      add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: END_OF_TEXT,
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}
