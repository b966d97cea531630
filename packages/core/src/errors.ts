import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Typed errors shared by every pixsearch package. Each carries a stable `code` (for JSON APIs
 * and exit codes), a message a user can act on, and, where one exists, the `cause`.
 */
export class PixsearchError extends Error {
  /** Stable machine-readable code, e.g. `DIMENSION_MISMATCH`. */
  readonly code: string;
  /** Optional hint: what the user can do about it (one line). */
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: { cause?: unknown; hint?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }
}

/** A vector (or a batch) whose length does not match the index or model dimension. */
export class DimensionMismatchError extends PixsearchError {
  constructor(
    readonly expected: number,
    readonly actual: number,
    what = 'vector',
  ) {
    super('DIMENSION_MISMATCH', `${what} has dimension ${actual}, expected ${expected}`);
  }
}

/** A vector containing NaN or ±Infinity, or otherwise unusable (e.g. a zero vector for cosine). */
export class InvalidVectorError extends PixsearchError {
  constructor(
    message: string,
    /** Row of the offending vector in the batch, when known. */
    readonly row?: number,
  ) {
    super('INVALID_VECTOR', message);
  }
}

/** An argument outside its documented range (ids, k, parameters, options). */
export class InvalidArgumentError extends PixsearchError {
  constructor(message: string, options: { cause?: unknown; hint?: string } = {}) {
    super('INVALID_ARGUMENT', message, options);
  }
}

/** An index file or directory that is truncated, garbled, or disagrees with its manifest. */
export class IndexCorruptError extends PixsearchError {
  constructor(
    readonly path: string,
    reason: string,
    options: { cause?: unknown } = {},
  ) {
    super('INDEX_CORRUPT', `index at ${path} is unusable: ${reason}`, {
      ...options,
      hint: 'pixsearch rebuilds a damaged index from its stored embeddings when the library is next opened (pixsearch index)',
    });
  }
}

/** A backend, model runtime or other optional native package is not installed or failed to load. */
export class DependencyMissingError extends PixsearchError {
  constructor(
    readonly packageName: string,
    what: string,
    options: { cause?: unknown; hint?: string } = {},
  ) {
    super('DEPENDENCY_MISSING', `${what} needs the package "${packageName}", which could not be loaded`, {
      hint: options.hint ?? `install it: pnpm add ${packageName}`,
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
  }
}

/** An operation on an object whose `close()` was already called. */
export class ClosedError extends PixsearchError {
  constructor(what: string) {
    super('CLOSED', `${what} is closed`);
  }
}

/** A model bundle that is missing files, has unexpected graph inputs/outputs, or inconsistent configs. */
export class ModelBundleError extends PixsearchError {
  constructor(message: string, options: { cause?: unknown; hint?: string } = {}) {
    super('MODEL_BUNDLE', message, options);
  }
}

/** A model that must be downloaded but cannot be (offline, HTTP error): says which files go where. */
export class ModelDownloadError extends PixsearchError {
  constructor(message: string, options: { cause?: unknown; hint?: string } = {}) {
    super('MODEL_DOWNLOAD', message, options);
  }
}

/** An image that cannot be decoded, is empty, truncated, too large, or of an unsupported format. */
export class ImageDecodeError extends PixsearchError {
  constructor(
    readonly source: string,
    /** Short machine-friendly reason, e.g. `unsupported-format`, `truncated`, `too-large`, `empty`. */
    readonly reason: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super('IMAGE_DECODE', `${source}: ${message}`, options);
  }
}

/** The data directory is used by another pixsearch process. */
export class DataDirInUseError extends PixsearchError {
  constructor(
    readonly dataDir: string,
    readonly pid?: number,
  ) {
    super('DATA_DIR_IN_USE', `data directory ${dataDir} is in use by another pixsearch process${pid ? ` (pid ${pid})` : ''}`, {
      hint: 'stop the other process, or pass a different --data-dir',
    });
  }
}

/** The index/catalog was built with a different model than the one configured. */
export class ModelMismatchError extends PixsearchError {
  constructor(
    readonly indexedWith: string,
    readonly configured: string,
  ) {
    super('MODEL_MISMATCH', `the library was indexed with model "${indexedWith}", but "${configured}" is configured`, {
      hint: `re-embed with the new model (pixsearch index --model ${configured} --reembed), or keep --model ${indexedWith}`,
    });
  }
}

/** An id, image or other object that does not exist. */
export class NotFoundError extends PixsearchError {
  constructor(what: string) {
    super('NOT_FOUND', `${what} not found`);
  }
}

/** The operation was aborted through an AbortSignal. */
export class AbortedError extends PixsearchError {
  constructor(what = 'operation') {
    super('ABORTED', `${what} was aborted`);
  }
}

/** `sync()` was called while another sync of the same engine is running. */
export class SyncInProgressError extends PixsearchError {
  constructor() {
    super('SYNC_IN_PROGRESS', 'a sync is already running for this library', {
      hint: 'wait for it to finish (or abort it), then try again',
    });
  }
}

/** A write (sync, root change) on an engine opened with `readOnly: true`. */
export class ReadOnlyError extends PixsearchError {
  constructor(what: string) {
    super('READ_ONLY', `${what} needs write access, but the library was opened read-only`, {
      hint: 'open it without readOnly (only one writer per data directory)',
    });
  }
}

/** A combined query (e.g. `"beach" + 2:"sunset" - "people"`) that does not parse. */
export class QuerySyntaxError extends PixsearchError {
  constructor(
    message: string,
    /** 0-based character offset in the query where the problem is. */
    readonly position: number,
  ) {
    super('QUERY_SYNTAX', `${message} (at character ${position + 1})`, {
      hint: 'quote each term and join them with + or -, e.g. "beach" + 2:"sunset" - "people"',
    });
  }
}

/** A path that should hold a file holds something else (a FIFO, a device, a socket, a folder). */
export class NotAFileError extends PixsearchError {
  constructor(
    readonly path: string,
    /** What it is instead: `FIFO`, `character device`, `block device`, `socket`, `directory`, or `not a regular file`. */
    readonly kind: string,
  ) {
    super('NOT_A_FILE', `${path} is not a regular file (${kind})`);
  }
}

/**
 * The catalog file is empty or damaged (not an SQLite database, or a corrupt one). It is never
 * replaced behind the user's back: the hint says how to recover.
 */
export class CatalogDamagedError extends PixsearchError {
  constructor(
    readonly file: string,
    /** What is wrong, e.g. `it is empty (0 bytes)`. */
    readonly problem: string,
    options: { cause?: unknown } = {},
  ) {
    super('CATALOG_DAMAGED', `the catalog ${file} is damaged: ${problem}`, {
      ...options,
      hint: `restore it from a backup; or move it aside (mv ${file} ${file}.damaged) and index your folders again: the images stay where they are and are embedded once more`,
    });
  }
}

/** The disk holding `path` is full (ENOSPC, SQLITE_FULL). Work committed before it is kept. */
export class DiskFullError extends PixsearchError {
  constructor(
    readonly path: string,
    /** Bytes still missing for the write that failed, when known. */
    readonly neededBytes?: number,
    options: { cause?: unknown } = {},
  ) {
    const mb = neededBytes === undefined ? undefined : Math.max(1, Math.ceil(neededBytes / (1024 * 1024)));
    super('DISK_FULL', `disk full at ${path}${mb === undefined ? '' : `: free ${mb} MB more is needed`}`, {
      ...options,
      hint: 'free some disk space (or move the data directory to a larger disk), then run the same command again: the work saved so far is kept',
    });
  }
}

/**
 * `err` as a {@link DiskFullError} at `path` when it reports a full disk, else undefined: ENOSPC,
 * EDQUOT, SQLITE_FULL, and SQLite's generic I/O errors (`SQLITE_IOERR_*`, which is how a failed
 * write of its log often surfaces) when the file system of `path` has less than 1 MiB free.
 */
export function diskFullError(err: unknown, path: string, neededBytes?: number): DiskFullError | undefined {
  if (err instanceof DiskFullError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ENOSPC' || code === 'SQLITE_FULL' || code === 'EDQUOT') return new DiskFullError(path, neededBytes, { cause: err });
  if (typeof code === 'string' && code.startsWith('SQLITE_IOERR') && freeBytes(path) < 1 << 20) return new DiskFullError(path, neededBytes, { cause: err });
  return undefined;
}

/** Free bytes on the file system of `path` (or its nearest existing parent); Infinity when unknown. */
function freeBytes(path: string): number {
  for (let p = path; ; p = dirname(p)) {
    try {
      const s = statfsSync(p);
      return s.bavail * s.bsize;
    } catch {
      if (dirname(p) === p) return Infinity;
    }
  }
}
