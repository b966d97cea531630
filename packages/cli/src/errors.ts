import { diskFullError, PixsearchError } from '@pixsearch/core/errors';

/** Exit codes of the `pixsearch` command. */
export const EXIT = {
  ok: 0,
  /** Something went wrong while doing the work (I/O, model, index, …). */
  runtime: 1,
  /** The command line, an environment variable or the config file is wrong. */
  usage: 2,
  /** Interrupted by Ctrl-C (128 + SIGINT). */
  interrupted: 130,
} as const;

/** A mistake on the command line, in `PIXSEARCH_*` variables or in the config file: exit code 2. */
export class UsageError extends PixsearchError {
  constructor(message: string, hint?: string) {
    super('USAGE', message, hint === undefined ? {} : { hint });
  }
}

/** Maps an error to the process exit code. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return EXIT.usage;
  if (err instanceof Error && err.name === 'CACError') return EXIT.usage;
  if (err instanceof PixsearchError) {
    if (err.code === 'INVALID_ARGUMENT' || err.code === 'QUERY_SYNTAX') return EXIT.usage;
    if (err.code === 'ABORTED') return EXIT.interrupted;
  }
  return EXIT.runtime;
}

/** Machine-readable form of an error for `--json` output. */
export function errorJson(err: unknown): { error: { code: string; message: string; hint?: string } } {
  const { code, message, hint } = describeError(err);
  return { error: hint === undefined ? { code, message } : { code, message, hint } };
}

/** Code, one-line message and hint of any thrown value. */
export function describeError(err: unknown): { code: string; message: string; hint: string | undefined } {
  // A full disk reported raw by Node or SQLite (not already typed): say so, where.
  if (!(err instanceof PixsearchError)) {
    const full = diskFullError(err, (err as NodeJS.ErrnoException | null)?.path ?? 'the data directory');
    if (full) err = full;
  }
  if (err instanceof PixsearchError) return { code: err.code, message: oneLine(err.message), hint: err.hint };
  if (err instanceof Error && err.name === 'CACError') {
    return { code: 'USAGE', message: oneLine(err.message.replace(/`/g, '')), hint: 'run the command with --help to see what it accepts' };
  }
  if (err instanceof Error) {
    const sys = err as NodeJS.ErrnoException;
    if (typeof sys.code === 'string' && sys.path) {
      return { code: sys.code, message: oneLine(err.message), hint: hintForErrno(sys.code) };
    }
    return { code: 'INTERNAL', message: oneLine(err.message), hint: 'rerun with --debug for the stack trace' };
  }
  return { code: 'INTERNAL', message: String(err), hint: undefined };
}

function hintForErrno(code: string): string | undefined {
  switch (code) {
    case 'ENOENT':
      return 'check the path';
    case 'EACCES':
    case 'EPERM':
      return 'check the permissions, or pass another --data-dir';
    case 'ENOSPC':
      return 'free some disk space';
    default:
      return undefined;
  }
}

function oneLine(s: string): string {
  return s.split('\n')[0]?.trim() ?? '';
}

/** Stack trace plus the `cause` chain, for `--debug`. */
export function debugDetails(err: unknown): string {
  const parts: string[] = [];
  let cur: unknown = err;
  for (let depth = 0; cur !== undefined && depth < 8; depth++) {
    if (cur instanceof Error) parts.push(`${depth > 0 ? 'caused by: ' : ''}${cur.stack ?? `${cur.name}: ${cur.message}`}`);
    else parts.push(`${depth > 0 ? 'caused by: ' : ''}${String(cur)}`);
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return parts.join('\n');
}
