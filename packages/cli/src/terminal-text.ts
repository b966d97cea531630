/**
 * Text from outside the program (file and folder names, messages that quote them) made safe to
 * print for humans, on a terminal or not: control characters would otherwise be obeyed by the
 * terminal (`\e[2J` clears the screen, an OSC sequence retitles the window, a newline splits a
 * result line). `--json` output never goes through this: JSON escapes them itself and must stay
 * exact.
 */

const ESCAPES: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * C0 controls, DEL, C1 controls, and the invisible format characters that reorder or split
 * what is shown: bidirectional overrides/isolates/marks and the Unicode line/paragraph separators.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(ch: string): string {
  const fixed = ESCAPES[ch];
  if (fixed) return fixed;
  const code = ch.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * `text` with every control character (C0, DEL, C1) and every bidi/line-separator format character
 * replaced by a visible escape: `\x1b`, `\x9b`, `\n`, `\t`, `\u202e`. Everything else, including
 * non-ASCII letters and emoji, is kept as is. Apply it to each outside value (not to a whole line:
 * the CLI's own colours are escape sequences too).
 */
export function printable(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}
