// faiss `write_index` throws a C++ exception on any I/O failure, which aborts Node. Every native
// write therefore goes to a path this module has just proven writable, with enough free space.
import { mkdtempSync, rmSync } from 'node:fs';
import { open, statfs } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Head-room kept free beyond the expected file size, in bytes. */
const SPACE_MARGIN = 16 << 20;

/**
 * Creates (truncates) `file` and checks its file system has `bytes` (+16 MiB) free, so that a
 * following native write cannot fail for those reasons. Throws a Node-style error (`ENOSPC`, or
 * the `open` error) instead of letting FAISS abort the process.
 */
export async function prepareNativeWrite(file: string, bytes: number): Promise<void> {
  const fh = await open(file, 'w');
  await fh.close();
  const fs = await statfs(path.dirname(file));
  const free = fs.bavail * fs.bsize;
  if (free < bytes + SPACE_MARGIN) {
    const err = new Error(`not enough disk space to write ${file}: need ${bytes + SPACE_MARGIN} bytes, ${free} free`) as NodeJS.ErrnoException;
    err.code = 'ENOSPC';
    throw err;
  }
}

/**
 * A private temporary directory (under `os.tmpdir()`) for an index's round trips through files
 * (nprobe reloads, compaction). Created on first use; `dispose()` deletes it.
 */
export class ScratchDir {
  private dir: string | undefined;

  constructor(private readonly prefix: string) {}

  /** Path of `name` inside the directory, creating the directory if needed. */
  file(name: string): string {
    this.dir ??= mkdtempSync(path.join(os.tmpdir(), `pixsearch-${this.prefix}-`));
    return path.join(this.dir, name);
  }

  /** Deletes the directory and everything in it. Idempotent. */
  dispose(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}
