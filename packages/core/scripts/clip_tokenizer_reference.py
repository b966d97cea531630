#!/usr/bin/env python3
"""Writes reference CLIP tokenizations to test/fixtures/tokenizer/reference.json.

The tokenizer below is a port of openai/CLIP's clip/simple_tokenizer.py and the `tokenize()`
function of clip/clip.py (MIT License, Copyright (c) 2021 OpenAI), unchanged in behaviour:
ftfy.fix_text, html.unescape twice, strip, whitespace clean-up, lower(), the CLIP regex,
byte-level BPE on bpe_simple_vocab_16e6, <|startoftext|>/<|endoftext|>, context 77 with
truncation that keeps the end token (truncate=True).

Needs: ftfy and regex (Debian bookworm has python3-regex but no python3-ftfy; install ftfy with
pip). Usage, from packages/core:
    python3 scripts/clip_tokenizer_reference.py ../../../shared/clip/bpe_simple_vocab_16e6.txt.gz
"""
import gzip
import html
import json
import os
import sys
from functools import lru_cache

import ftfy
import regex as re


@lru_cache()
def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(2**8):
        if b not in bs:
            bs.append(b)
            cs.append(2**8 + n)
            n += 1
    cs = [chr(n) for n in cs]
    return dict(zip(bs, cs))


def get_pairs(word):
    pairs = set()
    prev_char = word[0]
    for char in word[1:]:
        pairs.add((prev_char, char))
        prev_char = char
    return pairs


def basic_clean(text):
    text = ftfy.fix_text(text)
    text = html.unescape(html.unescape(text))
    return text.strip()


def whitespace_clean(text):
    text = re.sub(r'\s+', ' ', text)
    text = text.strip()
    return text


class SimpleTokenizer(object):
    def __init__(self, bpe_path):
        self.byte_encoder = bytes_to_unicode()
        merges = gzip.open(bpe_path).read().decode("utf-8").split('\n')
        merges = merges[1:49152 - 256 - 2 + 1]
        merges = [tuple(merge.split()) for merge in merges]
        vocab = list(bytes_to_unicode().values())
        vocab = vocab + [v + '</w>' for v in vocab]
        for merge in merges:
            vocab.append(''.join(merge))
        vocab.extend(['<|startoftext|>', '<|endoftext|>'])
        self.encoder = dict(zip(vocab, range(len(vocab))))
        self.bpe_ranks = dict(zip(merges, range(len(merges))))
        self.cache = {'<|startoftext|>': '<|startoftext|>', '<|endoftext|>': '<|endoftext|>'}
        self.pat = re.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""", re.IGNORECASE)

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = tuple(token[:-1]) + (token[-1] + '</w>',)
        pairs = get_pairs(word)
        if not pairs:
            return token + '</w>'
        while True:
            bigram = min(pairs, key=lambda pair: self.bpe_ranks.get(pair, float('inf')))
            if bigram not in self.bpe_ranks:
                break
            first, second = bigram
            new_word = []
            i = 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                    new_word.extend(word[i:j])
                    i = j
                except ValueError:
                    new_word.extend(word[i:])
                    break
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            word = tuple(new_word)
            if len(word) == 1:
                break
            pairs = get_pairs(word)
        word = ' '.join(word)
        self.cache[token] = word
        return word

    def encode(self, text):
        bpe_tokens = []
        text = whitespace_clean(basic_clean(text)).lower()
        for token in re.findall(self.pat, text):
            token = ''.join(self.byte_encoder[b] for b in token.encode('utf-8'))
            bpe_tokens.extend(self.encoder[bpe_token] for bpe_token in self.bpe(token).split(' '))
        return bpe_tokens


def tokenize(tok, text, context_length=77):
    """clip.tokenize(text, context_length=77, truncate=True) for one text, without the zero padding."""
    tokens = [tok.encoder['<|startoftext|>']] + tok.encode(text) + [tok.encoder['<|endoftext|>']]
    if len(tokens) > context_length:
        tokens = tokens[:context_length]
        tokens[-1] = tok.encoder['<|endoftext|>']
    return tokens


TEXTS = [
    "a photo of a cat",
    "A dog sitting on a bench",
    "",
    "   ",
    "a",
    "A PHOTO OF A CAT",
    "Hello, world!",
    "hello...world???!!!",
    "It's a dog's life, isn't it? We'll see; they've gone, I'm here, you'd know, they're out.",
    "IT'S LOUD",
    "don’t stop — it’s “quoted” ‘text’",
    "price: $1,234.56 (approx. 99%) #1 @home ~tilde~ ^caret^ |pipe| \\back\\slash",
    "3.14159 2024-06-01 12:30pm 1st 2nd 3rd 100000",
    "x² + y² = z²; ½ ¾ ⅓ Ⅻ ١٢٣ ४५६",
    "C++ and C# and F#; e-mail; co-operate; state-of-the-art",
    "https://example.com/path?q=1&x=2#frag",
    "user@example.com",
    "naïve café résumé façade coöperate Ångström",
    "Straße groß ẞ",
    "İstanbul ı I",
    "ΟΔΟΣ Σίσυφος",
    "Привет, мир! Съешь же ещё этих мягких французских булок",
    "日本語のテキスト、東京タワー。",
    "中文测试：一只猫坐在长椅上",
    "한국어 텍스트 고양이",
    "مرحبا بالعالم",
    "שלום עולם",
    "नमस्ते दुनिया",
    "สวัสดีชาวโลก",
    "Ελληνικά γράμματα",
    "tiếng Việt có dấu",
    "😀 😂 🐈 🐕‍🦺 👩‍👩‍👧‍👦 🇫🇷 👍🏽 ❤️",
    "cat🐈dog🐕",
    "&amp; &lt;b&gt; &quot;hi&quot; &#39;x&#39; &#x263A; &copy; &nbsp;space",
    "fish &amp;amp; chips",
    "AT&T &NTILDE; &Eacute;t&eacute; &hellip; &mdash;",
    "<b>bold</b> &amp; more",
    "&ampx &notit; &notin; &#0; &#128; &#x110000; &#65 &#x41;",
    "Tom &amp Jerry",
    "tab\tseparated\nnew line\r\nwindows\u00a0nbsp\u2003em\u3000ideographic",
    "zero\u200bwidth\u200djoiner\ufeffbom",
    "control\x00chars\x07here\x1b[31mred\x1b[0m",
    "ﬁne ﬂour ﬀ ĳ",
    "ＬＯＵＤ　ＮＯＩＳＥＳ ｈｅｌｌｏ １２３ ｶﾀｶﾅ",
    "e\u0301 versus \u00e9 (combining accent)",
    "<|startoftext|> inside <|endoftext|> text",
    "tokens like </w> and <unk>",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "the quick brown fox jumps over the lazy dog " * 12,
    " ".join(str(i) for i in range(200)),
    "🐈" * 100,
    "word " * 75,
    "word " * 74,
    "word " * 76,
    "’’’“”‘", 
    "...!!!???,,,;;;:::---___===+++***&&&%%%$$$###@@@",
    "'s 's's ''s 'S 'LL 'Re",
    "mixedCASE CamelCase snake_case kebab-case SCREAMING_CASE",
    "a\u2028b\u2029c\u0085d",
    "«guillemets» „German“ ‹single›",
    "Ⓐ ⓑ ① ⑴ ⒜ ㈱ ㎏ ™ ℃ №",
    "ꟹ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝐛𝐨𝐥𝐝",
    # mojibake that ftfy repairs
    "cafÃ© au lait",
    "âœ” No problems",
    "The Mona Lisa doesnÃ¢â‚¬â„¢t have eyebrows.",
    "voilÃ  le travail",
    "ÐŸÑ€Ð¸Ð²ÐµÑ‚ Ð¼Ð¸Ñ€",
    "sÃ³ Â£100 Ã¶sterreich",
    "Ã¢â‚¬Å“mismatched quotesâ€¦â€\x9d",
    "ç”Ÿæ´»ã€ä¸‰æ¬¡å…ƒ",
    "Ã‰tudiants and a real café",
    "&macr;\\_(ã\x83\x84)_/&macr;",
    "ð\x9f\x98\x80 emoji mojibake",
    "l\x92esprit \x93quoted\x94 \x85",
    "Ã",
    "Ã  la carte",
    "Ãºnico niÃ±o",
    "×©×œ×•×",
    "Ø§Ù„Ø¹Ø±Ø¨ÙŠØ©",
    "broken seq: Ã\x83Â©",
]


def main():
    bpe_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '../../../../shared/clip/bpe_simple_vocab_16e6.txt.gz')
    tok = SimpleTokenizer(bpe_path)
    cases = [{"text": t, "ids": tokenize(tok, t)} for t in TEXTS]
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'tokenizer', 'reference.json')
    with open(out, 'w', encoding='utf-8') as f:
        json.dump({"generator": "scripts/clip_tokenizer_reference.py", "ftfy": ftfy.__version__, "regex": re.__version__, "cases": cases}, f, ensure_ascii=False, indent=1)
        f.write('\n')
    print(f"wrote {len(cases)} cases to {out}")


if __name__ == '__main__':
    main()
