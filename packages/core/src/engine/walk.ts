import { statSync, type Dirent, type Stats } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import picomatch from 'picomatch';
import { AbortedError } from '../errors.js';
import { decodeName, extensionOf } from './paths.js';
import { IMAGE_EXTENSIONS } from './sniff.js';

/** Folder names skipped everywhere (besides every name starting with a dot). */
export const DEFAULT_IGNORED_NAMES: readonly string[] = [
  '@eaDir', // Synology thumbnails
  '#recycle',
  '#snapshot',
  '$RECYCLE.BIN',
  'System Volume Information',
  'lost+found',
  'node_modules',
];

/** One image-like file found by the walk. */
export interface WalkEntry {
  /** Root-relative path, `/`-separated; bytes that are not UTF-8 appear as `\xNN`. */
  relPath: string;
  /** Path to open: a string, or the raw bytes when the name is not valid UTF-8. */
  absPath: string | Buffer;
  /** False when some component of the path is not valid UTF-8. */
  validName: boolean;
  /** `file`: a regular file (through symlinks); the others are recorded as skips. */
  kind: 'file' | 'broken-symlink' | 'not-a-file';
  size: number;
  mtimeMs: number;
}

export interface WalkResult {
  entries: WalkEntry[];
  /** Root-relative folder prefixes (`''` = the whole root, else `dir/`) that could not be read: their catalog rows are kept as they are. */
  unreadable: string[];
  warnings: string[];
}

export interface WalkOptions {
  /** Extra picomatch globs against root-relative paths (folders are also tested with a trailing `/`). */
  ignore?: readonly string[];
  /** `dev:ino` of folders already walked (shared across roots: each folder is walked once, symlink loops end). */
  visited: Set<string>;
  /** `dev:ino` of folders never to enter (the data directory). */
  exclude: ReadonlySet<string>;
  signal?: AbortSignal;
  /** Called as files are found, with the running count. */
  onFile?: (count: number) => void;
}

const SLASH = Buffer.from('/');
/**
 * The walk stats files synchronously (10× faster than one promise per file on a busy machine)
 * but yields to the event loop at least this often (ms), so a server stays responsive.
 */
const YIELD_EVERY_MS = 10;

/** `dev:ino` key of a folder. */
export async function dirKey(p: string | Buffer): Promise<string> {
  const s = statSync(p, { bigint: true });
  return `${s.dev}:${s.ino}`;
}

/** stat() following symlinks; undefined when the target does not exist (or loops). */
function statOrUndefined(p: Buffer): Stats | undefined {
  try {
    return statSync(p, { throwIfNoEntry: false });
  } catch {
    return undefined; // ELOOP, EACCES on a parent, …
  }
}

/**
 * Walks `root` recursively and returns every file whose extension is an image extension.
 * Hidden entries (leading dot) and {@link DEFAULT_IGNORED_NAMES} are skipped; symlinks are
 * followed (to files and folders), each folder is entered once (by device and inode), so
 * loops end. Names are read as bytes, so non-UTF-8 names are seen, not mangled.
 * Unreadable folders are reported in `unreadable`, never thrown.
 */
export async function walkRoot(root: string, options: WalkOptions): Promise<WalkResult> {
  const userIgnore = options.ignore && options.ignore.length > 0 ? picomatch([...options.ignore], { dot: true }) : undefined;
  const ignoredNames = new Set(DEFAULT_IGNORED_NAMES);
  const result: WalkResult = { entries: [], unreadable: [], warnings: [] };
  let found = 0;

  const queue: { abs: Buffer; rel: string; valid: boolean }[] = [];
  const enterDir = async (abs: Buffer, rel: string, valid: boolean): Promise<void> => {
    let key: string;
    try {
      key = await dirKey(abs);
    } catch (err) {
      result.unreadable.push(rel);
      result.warnings.push(`cannot read folder ${rel || root}: ${(err as Error).message}`);
      return;
    }
    if (options.exclude.has(key) || options.visited.has(key)) return;
    options.visited.add(key);
    queue.push({ abs, rel, valid });
  };

  await enterDir(Buffer.from(root), '', true);
  while (queue.length > 0) {
    if (options.signal?.aborted) throw new AbortedError('sync');
    const dir = queue.pop()!;
    let dirents: Dirent<Buffer>[];
    try {
      dirents = await readdir(dir.abs, { withFileTypes: true, encoding: 'buffer' });
    } catch (err) {
      result.unreadable.push(dir.rel);
      result.warnings.push(`cannot read folder ${dir.rel || root}: ${(err as Error).message}`);
      continue;
    }
    let lastYield = performance.now();
    for (const d of dirents) {
      if (performance.now() - lastYield > YIELD_EVERY_MS) {
        await nextTurn();
        lastYield = performance.now();
        if (options.signal?.aborted) throw new AbortedError('sync');
      }
      const { text: name, valid: nameValid } = decodeName(d.name);
      if (name.startsWith('.')) continue;
      const rel = dir.rel + name;
      const abs = Buffer.concat([dir.abs, SLASH, d.name]);
      const valid = dir.valid && nameValid;
      const isDirLike = d.isDirectory() || d.isSymbolicLink();
      if (isDirLike && ignoredNames.has(name)) continue;
      if (userIgnore && (userIgnore(rel) || (isDirLike && userIgnore(rel + '/')))) continue;
      if (d.isDirectory()) {
        await enterDir(abs, rel + '/', valid);
        continue;
      }
      const isImage = IMAGE_EXTENSIONS.has(extensionOf(name));
      if (!isImage && !d.isSymbolicLink()) continue;
      const entry = (kind: WalkEntry['kind'], s?: Stats): void => {
        result.entries.push({ relPath: rel, absPath: pathFor(abs, valid), validName: valid, kind, size: s?.size ?? 0, mtimeMs: s?.mtimeMs ?? 0 });
        found++;
        options.onFile?.(found);
      };
      if (d.isSymbolicLink()) {
        const s = statOrUndefined(abs);
        if (!s) {
          if (isImage) entry('broken-symlink');
        } else if (s.isDirectory()) {
          await enterDir(abs, rel + '/', valid);
        } else if (isImage) {
          if (s.isFile()) entry('file', s);
          else entry('not-a-file');
        }
      } else if (!d.isFile()) {
        entry('not-a-file');
      } else {
        const s = statOrUndefined(abs);
        if (s) entry('file', s); // else: vanished between readdir and stat — simply not there
      }
    }
  }
  return result;
}

function pathFor(abs: Buffer, valid: boolean): string | Buffer {
  return valid ? abs.toString('utf8') : abs;
}
