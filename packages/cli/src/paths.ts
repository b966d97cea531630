import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

/** Expands a leading `~` to the home directory and resolves against `base` (default: cwd). */
export function expandPath(p: string, base = process.cwd()): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return join(homedir(), p.slice(2));
  return resolve(base, p);
}

/** XDG base directory `name` (e.g. `XDG_DATA_HOME`), ignoring relative values as the spec says. */
function xdgDir(name: string, fallback: string[], env: NodeJS.ProcessEnv): string {
  const v = env[name];
  if (v && isAbsolute(v)) return v;
  return join(homedir(), ...fallback);
}

/** Default data directory: `$XDG_DATA_HOME/pixsearch`, else `~/.local/share/pixsearch`. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(xdgDir('XDG_DATA_HOME', ['.local', 'share'], env), 'pixsearch');
}

/** Default image folder when `serve` gets none: `~/Pictures`. */
export function defaultPicturesDir(): string {
  return join(homedir(), 'Pictures');
}

/** How the user runs pixsearch, for hints: `pixsearch`, or the wrapper that set `PIXSEARCH_PROG` (e.g. `./pixsearch.sh`). */
export function prog(): string {
  return process.env.PIXSEARCH_PROG || 'pixsearch';
}
