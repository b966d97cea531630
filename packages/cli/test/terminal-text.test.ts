import { describe, expect, it } from 'vitest';
import { printable } from '../src/terminal-text.js';

describe('printable', () => {
  it('escapes C0, DEL and C1 controls visibly', () => {
    expect(printable('a\x1b[2Jb')).toBe('a\\x1b[2Jb');
    expect(printable('\x1b]0;pwned\x07')).toBe('\\x1b]0;pwned\\x07');
    expect(printable('line\nbreak\r\ttab')).toBe('line\\nbreak\\r\\ttab');
    expect(printable('nul\x00del\x7fcsi\x9bst\x9c')).toBe('nul\\x00del\\x7fcsi\\x9bst\\x9c');
  });

  it('escapes bidi overrides and Unicode line separators', () => {
    expect(printable('photo\u202egpj.exe')).toBe('photo\\u202egpj.exe');
    expect(printable('a\u2028b\u2066c')).toBe('a\\u2028b\\u2066c');
  });

  it('keeps ordinary text, non-ASCII letters and emoji as they are', () => {
    const s = 'Urlaub 2019/Ångström — 日本 🐕 (1) [x] \\ back slash.jpg';
    expect(printable(s)).toBe(s);
  });
});
