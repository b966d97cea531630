/** A standalone `-` (a query operator) would be eaten by the option parser: main.ts swaps it for this marker. */
export const MINUS_MARK = '\u0000-';

/**
 * Prefix main.ts puts on every value it hands to the option parser: mri (inside cac) turns any
 * value that looks like a number into one (`--token ''` arrived as 0, `--data-dir 007` as 7, a
 * long numeric token lost digits). A marked value never looks like a number; the mark is
 * removed again before the commands see their options and arguments.
 */
export const VALUE_MARK = '\u0001';

/** `v` without the {@link VALUE_MARK} (strings, and strings inside arrays); anything else unchanged. */
export function unmark(v: unknown): unknown {
  if (typeof v === 'string') return v.startsWith(VALUE_MARK) ? v.slice(VALUE_MARK.length) : v;
  if (Array.isArray(v)) return v.map(unmark);
  return v;
}

/**
 * Prepares the command line for cac: a standalone `-` becomes {@link MINUS_MARK}; every value
 * (a word that is not an option, and the part after `=` in `--name=value`) gets
 * {@link VALUE_MARK}, except the command name (the first word that is one of `commands`).
 * Words after `--` are passed through untouched (cac does not parse them).
 */
export function markArgv(argv: readonly string[], commands: readonly string[]): string[] {
  const out: string[] = [];
  let command = false;
  let rest = false;
  for (const a of argv) {
    if (rest) out.push(a);
    else if (a === '--') {
      rest = true;
      out.push(a);
    } else if (a === '-') out.push(MINUS_MARK);
    else if (a.startsWith('-')) {
      const eq = a.indexOf('=');
      out.push(a.startsWith('--') && eq > 2 ? `${a.slice(0, eq + 1)}${VALUE_MARK}${a.slice(eq + 1)}` : a);
    } else if (!command && commands.includes(a)) {
      command = true;
      out.push(a);
    } else out.push(`${VALUE_MARK}${a}`);
  }
  return out;
}
