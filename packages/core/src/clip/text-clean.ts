// CLIP's text clean-up, ported from the reference (openai/CLIP simple_tokenizer.py, MIT):
//   basic_clean: ftfy.fix_text → html.unescape twice → strip
//   whitespace_clean: collapse runs of whitespace to one space → strip
// ftfy.fix_text (v6.3, MIT) is ported fixer by fixer, including its mojibake repair
// (`fix_encoding`: text that looks like UTF-8 decoded as a single-byte encoding is re-decoded),
// with ftfy's own detection regexes and codec tables dumped into text-clean-data.ts.
// Python's html.unescape is ported exactly, with its entity tables (text-clean-data.ts).
import { C1_WINDOWS_1252, FTFY_MOJIBAKE, HTML5_ENTITIES, INVALID_CHARREFS } from './text-clean-data.js';

/** Python `regex` module's `\s` (differs from JS `\s`: has U+0085, lacks U+FEFF). */
export const PY_WS_CLASS = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const WS_RUN = new RegExp(`[${PY_WS_CLASS}]+`, 'gu');
/** Python `str.strip()` strips `str.isspace()` characters: `\s` plus U+001C..U+001F. */
const STRIP_CLASS = `${PY_WS_CLASS}\\u001c-\\u001f`;
const STRIP_RE = new RegExp(`^[${STRIP_CLASS}]+|[${STRIP_CLASS}]+$`, 'gu');

/** Python's `str.strip()` with no argument. */
export function pyStrip(text: string): string {
  return text.replace(STRIP_RE, '');
}

/** The reference `whitespace_clean`: `re.sub(r'\s+', ' ', text).strip()`. */
export function whitespaceClean(text: string): string {
  return pyStrip(text.replace(WS_RUN, ' '));
}

// ---------------------------------------------------------------------------------------------
// Python html.unescape

const CHARREF_RE = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

function isInvalidCodepoint(n: number): boolean {
  return (
    (n >= 0x1 && n <= 0x8) ||
    n === 0xb ||
    (n >= 0xe && n <= 0x1f) ||
    (n >= 0x7f && n <= 0x9f) ||
    (n >= 0xfdd0 && n <= 0xfdef) ||
    (n & 0xfffe) === 0xfffe
  );
}

function replaceCharref(s: string): string {
  if (s[0] === '#') {
    const hex = s[1] === 'x' || s[1] === 'X';
    const digits = (hex ? s.slice(2) : s.slice(1)).replace(/;+$/, '');
    const num = hex ? parseInt(digits, 16) : Number(digits);
    const invalid = INVALID_CHARREFS[String(num)];
    if (invalid !== undefined) return invalid;
    if ((num >= 0xd800 && num <= 0xdfff) || num > 0x10ffff || !Number.isFinite(num)) return '\ufffd';
    if (isInvalidCodepoint(num)) return '';
    return String.fromCodePoint(num);
  }
  const exact = HTML5_ENTITIES[s];
  if (exact !== undefined) return exact;
  // The longest prefix that is an entity name (legacy names work without ';').
  const cps = Array.from(s);
  for (let x = cps.length - 1; x > 1; x--) {
    const prefix = cps.slice(0, x).join('');
    const hit = HTML5_ENTITIES[prefix];
    if (hit !== undefined) return hit + cps.slice(x).join('');
  }
  return `&${s}`;
}

/** Python's `html.unescape` (HTML5 named and numeric character references). */
export function pyHtmlUnescape(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(CHARREF_RE, (_m, s: string) => replaceCharref(s));
}

// ---------------------------------------------------------------------------------------------
// ftfy.fix_text (v6.3, default configuration)

let ftfyEntities: Map<string, string> | undefined;
function ftfyEntityTable(): Map<string, string> {
  if (ftfyEntities) return ftfyEntities;
  const table = new Map<string, string>();
  for (const [name, char] of Object.entries(HTML5_ENTITIES)) {
    if (!name.endsWith(';')) continue;
    table.set(`&${name}`, char);
  }
  // Entities whose name was upper-cased (e.g. &NTILDE;) decode to the upper-case character.
  for (const [name, char] of Object.entries(HTML5_ENTITIES)) {
    if (!name.endsWith(';') || name !== name.toLowerCase()) continue;
    const upper = `&${name.toUpperCase()}`;
    if (pyHtmlUnescape(upper) === upper) table.set(upper, char.toUpperCase());
  }
  ftfyEntities = table;
  return table;
}

const FTFY_ENTITY_RE = /&#?[0-9A-Za-z]{1,24};/g;
function ftfyUnescapeHtml(text: string): string {
  return text.replace(FTFY_ENTITY_RE, (m) => {
    const hit = ftfyEntityTable().get(m);
    if (hit !== undefined) return hit;
    if (m.startsWith('&#')) {
      const unescaped = pyHtmlUnescape(m);
      return unescaped.includes(';') ? m : unescaped;
    }
    return m;
  });
}

const C1_RE = /[\u0080-\u009f]/g;
const LIGATURES: Record<string, string> = {
  'Ĳ': 'IJ', 'ĳ': 'ij', 'ŉ': 'ʼn', 'Ǳ': 'DZ', 'ǲ': 'Dz', 'ǳ': 'dz', 'Ǆ': 'DŽ', 'ǅ': 'Dž', 'ǆ': 'dž',
  'Ǉ': 'LJ', 'ǈ': 'Lj', 'ǉ': 'lj', 'Ǌ': 'NJ', 'ǋ': 'Nj', 'ǌ': 'nj',
  'ﬀ': 'ff', 'ﬁ': 'fi', 'ﬂ': 'fl', 'ﬃ': 'ffi', 'ﬄ': 'ffl', 'ﬅ': 'ſt', 'ﬆ': 'st',
};
const LIGATURE_RE = new RegExp(`[${Object.keys(LIGATURES).join('')}]`, 'gu');
const WIDTH_RE = /[\u3000\uff01-\uffef]/g;
const widthCache = new Map<string, string>();
function widthFix(ch: string): string {
  if (ch === '\u3000') return ' ';
  let out = widthCache.get(ch);
  if (out === undefined) {
    out = ch.normalize('NFKC');
    widthCache.set(ch, out);
  }
  return out;
}
// Control characters are what these patterns are for.
// eslint-disable-next-line no-control-regex
const ANSI_RE = /\u001b\[((?:\p{Nd}|;)*)([a-zA-Z])/gu;
const LONE_SURROGATE_RE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u0008\u000b\u000e-\u001f\u007f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;

// ---------------------------------------------------------------------------------------------
// ftfy.fix_encoding: mojibake repair. Byte strings are JS strings of chars U+0000..U+00FF.

let mojibake:
  | {
      badness: RegExp;
      utf8Detector: RegExp;
      alteredUtf8: RegExp;
      lossyUtf8: RegExp;
      aGraveWord: RegExp;
      encoders: Map<string, Map<string, number>>;
    }
  | undefined;
function mojibakeData(): NonNullable<typeof mojibake> {
  if (!mojibake) {
    const encoders = new Map<string, Map<string, number>>();
    for (const enc of FTFY_MOJIBAKE.encodings) {
      const table = FTFY_MOJIBAKE.tables[enc]!;
      const map = new Map<string, number>();
      for (let b = 0; b < 256; b++) map.set(table[b]!, b);
      encoders.set(enc, map);
    }
    mojibake = {
      badness: new RegExp(FTFY_MOJIBAKE.badness, 'u'),
      utf8Detector: new RegExp(FTFY_MOJIBAKE.utf8Detector, 'gu'),
      alteredUtf8: new RegExp(FTFY_MOJIBAKE.alteredUtf8, 'gu'),
      lossyUtf8: new RegExp(FTFY_MOJIBAKE.lossyUtf8, 'gu'),
      aGraveWord: new RegExp(FTFY_MOJIBAKE.aGraveWord, 'gu'),
      encoders,
    };
  }
  return mojibake;
}

function search(re: RegExp, text: string): boolean {
  re.lastIndex = 0;
  const hit = re.test(text);
  re.lastIndex = 0;
  return hit;
}

/** ftfy's `is_bad`: does the text contain sequences typical of mojibake? */
function isBad(text: string): boolean {
  return search(mojibakeData().badness, text);
}

/** ftfy's possible_encoding + str.encode: the bytes of `text` in a single-byte encoding, or undefined. */
function encodeSingleByte(text: string, enc: string): string | undefined {
  const map = mojibakeData().encoders.get(enc)!;
  const table = FTFY_MOJIBAKE.tables[enc]!;
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    // possible_encoding: ASCII except U+001A, or a character that bytes 0x80..0xFF / 0x1A decode to.
    const allowed = (code < 0x80 && code !== 0x1a) || (map.has(ch) && (map.get(ch)! >= 0x80 || ch === table[0x1a]));
    if (!allowed) return undefined;
    out += String.fromCharCode(map.get(ch) ?? code);
  }
  return out;
}

const UTF8_STRICT = new TextDecoder('utf-8', { fatal: true });
function utf8Strict(bytes: string): string {
  const arr = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) arr[i] = bytes.charCodeAt(i);
  return UTF8_STRICT.decode(arr);
}

/** ftfy's `utf-8-variants` codec: UTF-8 plus CESU-8 surrogate pairs and Java's C0 80 for NUL. Throws on invalid input. */
function utf8Variants(bytes: string): string {
  let out = '';
  let start = 0;
  let i = 0;
  const n = bytes.length;
  const at = (k: number) => bytes.charCodeAt(k);
  while (i < n) {
    const b = at(i);
    if (b === 0xc0 && (i + 1 === n || at(i + 1) === 0x80)) {
      out += utf8Strict(bytes.slice(start, i));
      if (i + 1 === n) throw new Error('truncated');
      out += '\u0000';
      i += 2;
      start = i;
    } else if (b === 0xed && (i + 1 === n || (at(i + 1) >= 0xa0 && at(i + 1) <= 0xbf))) {
      out += utf8Strict(bytes.slice(start, i));
      const ok =
        i + 6 <= n &&
        at(i + 1) >= 0xa0 && at(i + 1) <= 0xaf &&
        at(i + 2) >= 0x80 && at(i + 2) <= 0xbf &&
        at(i + 3) === 0xed &&
        at(i + 4) >= 0xb0 && at(i + 4) <= 0xbf &&
        at(i + 5) >= 0x80 && at(i + 5) <= 0xbf;
      if (!ok) throw new Error('invalid surrogate');
      const cp = ((at(i + 1) & 0x0f) << 16) + ((at(i + 2) & 0x3f) << 10) + ((at(i + 4) & 0x0f) << 6) + (at(i + 5) & 0x3f) + 0x10000;
      out += String.fromCodePoint(cp);
      i += 6;
      start = i;
    } else {
      i++;
    }
  }
  return out + utf8Strict(bytes.slice(start));
}

function restoreByteA0(bytes: string): string {
  const d = mojibakeData();
  d.aGraveWord.lastIndex = 0;
  d.alteredUtf8.lastIndex = 0;
  return bytes.replace(d.aGraveWord, '\u00c3\u00a0 ').replace(d.alteredUtf8, (m) => m.replaceAll(' ', '\u00a0'));
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

const WINDOWS_1252_UNDEFINED = new Set([0x81, 0x8d, 0x8f, 0x90, 0x9d]);

function fixEncodingOneStep(text: string): string {
  if (text.length === 0 || isAscii(text) || !isBad(text)) return text;
  const d = mojibakeData();
  const possible: string[] = [];
  for (const enc of FTFY_MOJIBAKE.encodings) {
    let bytes = encodeSingleByte(text, enc);
    if (bytes === undefined) continue;
    possible.push(enc);
    if (enc !== 'macroman' && search(d.alteredUtf8, bytes)) bytes = restoreByteA0(bytes);
    if (enc.startsWith('sloppy')) {
      d.lossyUtf8.lastIndex = 0;
      bytes = bytes.replace(d.lossyUtf8, '\u00ef\u00bf\u00bd');
    }
    try {
      return bytes.includes('\u00ed') || bytes.includes('\u00c0') ? utf8Variants(bytes) : utf8Strict(bytes);
    } catch {
      // not UTF-8 this way: try the next encoding
    }
  }
  if (search(d.utf8Detector, text)) {
    d.utf8Detector.lastIndex = 0;
    const fixed = text.replace(d.utf8Detector, (m) => (m.length < text.length && isBad(m) ? fixEncoding(m) : m));
    if (fixed !== text) return fixed;
  }
  if (possible.includes('latin-1')) {
    // (ftfy checks for 'windows-1252' here, which is never in its list, so this always runs.)
    let fixed = '';
    let ok = true;
    for (const ch of text) {
      const code = ch.codePointAt(0)!;
      if (code >= 0x80 && code <= 0x9f) {
        if (WINDOWS_1252_UNDEFINED.has(code)) {
          ok = false;
          break;
        }
        fixed += C1_WINDOWS_1252[String(code)] ?? ch;
      } else fixed += ch;
    }
    if (ok && fixed !== text) return fixed;
  }
  if (/[\u0080-\u009f]/.test(text)) return text.replace(C1_RE, (c) => C1_WINDOWS_1252[String(c.charCodeAt(0))] ?? c);
  return text;
}

/** ftfy's `fix_encoding`: repairs mojibake step by step until the text stops changing. */
export function fixEncoding(text: string): string {
  for (;;) {
    const fixed = fixEncodingOneStep(text);
    if (fixed === text) return text;
    text = fixed;
  }
}

function fixSegment(segment: string, unescapeHtml: boolean): string {
  let text = segment;
  for (;;) {
    const orig = text;
    if (unescapeHtml) text = ftfyUnescapeHtml(text);
    text = fixEncoding(text);
    text = text.replace(C1_RE, (c) => C1_WINDOWS_1252[String(c.charCodeAt(0))] ?? c);
    text = text.replace(LIGATURE_RE, (c) => LIGATURES[c] ?? c);
    text = text.replace(WIDTH_RE, widthFix);
    text = text.replace(/[\u201c-\u201f]/g, '"').replace(/[\u02bc\u2018-\u201b]/g, "'");
    text = text.replace(/\r\n/g, '\n').replace(/[\r\u2028\u2029\u0085]/g, '\n');
    text = text.replace(LONE_SURROGATE_RE, '\ufffd');
    text = text.replace(ANSI_RE, '');
    text = text.replace(CONTROL_RE, '');
    text = text.normalize('NFC');
    if (text === orig) return text;
  }
}

/**
 * `ftfy.fix_text` with its default configuration.
 * Works line by line like ftfy; once a line contains `<`, HTML entities are no longer decoded
 * by ftfy (for that line and the ones after it, as ftfy 6.3 does).
 */
export function ftfyFixText(text: string): string {
  let unescape = true;
  let out = '';
  let pos = 0;
  while (pos < text.length) {
    let brk = text.indexOf('\n', pos) + 1;
    if (brk === 0) brk = text.length;
    const segment = text.slice(pos, brk);
    if (unescape && segment.includes('<')) unescape = false;
    out += fixSegment(segment, unescape);
    pos = brk;
  }
  return out;
}

/** The reference `whitespace_clean(basic_clean(text)).lower()`. */
export function cleanText(text: string): string {
  const basic = pyStrip(pyHtmlUnescape(pyHtmlUnescape(ftfyFixText(text))));
  return whitespaceClean(basic).toLowerCase();
}
