/** A standalone `-` (a query operator) would be eaten by the option parser: main.ts swaps it for this marker. */
export const MINUS_MARK = '\u0000-';
