/**
 * The one rule for access tokens, shared by the server (which enforces it) and the CLI (which
 * checks `--token`, `PIXSEARCH_TOKEN` and the config file before doing any work). Importable on
 * its own as `@pixsearch/server/token-rule` (no HTTP code loaded).
 */

/** Fewest characters a token may have. */
export const TOKEN_MIN_LENGTH = 16;
/** Most characters a token may have (it travels in a header and a cookie). */
export const TOKEN_MAX_LENGTH = 512;

/** The rule in words, for error messages. */
export const TOKEN_RULE = `${TOKEN_MIN_LENGTH} to ${TOKEN_MAX_LENGTH} visible ASCII characters, no spaces (it is sent as "Authorization: Bearer <token>")`;

/**
 * Why `token` breaks the rule (a short phrase such as `it is empty`), or undefined when it is fine.
 * Visible ASCII only, because a Bearer header cannot carry spaces, control characters or
 * non-Latin-1 text: such a token could never be presented.
 */
export function tokenProblem(token: string): string | undefined {
  if (token.length === 0) return 'it is empty';
  if (token.trim() === '') return 'it is all whitespace';
  if (/\s/.test(token)) return 'it contains whitespace';
  if (/[^\x21-\x7e]/.test(token)) return 'it contains control or non-ASCII characters';
  if (token.length < TOKEN_MIN_LENGTH) return `it has only ${token.length} character${token.length === 1 ? '' : 's'}`;
  if (token.length > TOKEN_MAX_LENGTH) return `it has ${token.length} characters`;
  return undefined;
}
