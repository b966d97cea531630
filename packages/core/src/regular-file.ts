import { closeSync, constants, fstatSync, openSync, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { NotAFileError } from './errors.js';

/** Flags for opening a file to read without ever blocking: a FIFO opens at once, a terminal is never adopted. */
const READ_NONBLOCK = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'FIFO';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  if (st.isSocket()) return 'socket';
  if (st.isDirectory()) return 'directory';
  return 'not a regular file';
}

/**
 * Opens `file` for reading, but only when it is a regular file (after following symlinks):
 * opened with O_NONBLOCK, so a FIFO or a device swapped in for an image never blocks a thread of
 * libuv's pool (a plain `open()` of a FIFO waits for a writer forever), then checked with fstat.
 * Rejects with {@link NotAFileError} for anything else, or with the file system error
 * (ENOENT, EACCES…). The caller owns the handle and closes it.
 */
export async function openRegularFile(file: string | Buffer): Promise<FileHandle> {
  const fh = await open(file, READ_NONBLOCK);
  let st: Stats;
  try {
    st = await fh.stat();
  } catch (err) {
    await fh.close();
    throw err;
  }
  if (!st.isFile()) {
    await fh.close();
    throw new NotAFileError(String(file), kindOf(st));
  }
  return fh;
}

/** Resolves when `file` is a regular file now; rejects like {@link openRegularFile}. Never blocks on a FIFO. */
export async function assertRegularFile(file: string | Buffer): Promise<void> {
  await (await openRegularFile(file)).close();
}

/**
 * {@link openRegularFile} for synchronous callers (e.g. a decoder reading a header in a worker):
 * returns a file descriptor the caller closes with `closeSync`. Never blocks on a FIFO.
 */
export function openRegularFileSync(file: string): number {
  const fd = openSync(file, READ_NONBLOCK);
  let st: Stats;
  try {
    st = fstatSync(fd);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  if (!st.isFile()) {
    closeSync(fd);
    throw new NotAFileError(file, kindOf(st));
  }
  return fd;
}
