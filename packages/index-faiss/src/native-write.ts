// faiss `write_index` throws a C++ exception on any I/O failure, which aborts Node. Every native
// write therefore goes to a path this module has just proven writable, with enough free space.
import { mkdtempSync, rmSync } from 'node:fs';
import { open, statfs } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DiskFullError } from '@pixsearch/core';

/**
 * Free space required beyond the file's exact size (`bytes` is computed from the index layout):
 * why any is needed at all is that FAISS cannot fail gracefully — a short write throws a C++
 * exception that aborts Node — so the write must be certain to fit. What a file takes beyond its
 * bytes is its last partial block and the file system's block map (ext4: one 4 KiB extent block
 * per 340 extents, i.e. ≤ 0.3 % even fully fragmented). 1 MiB + 1/256 of the size covers both
 * with room to spare (a 100 MB index needs 1.4 MB more, not the flat 16 MiB of before).
 */
export function spaceMargin(bytes: number): number {
  return (1 << 20) + Math.ceil(bytes / 256);
}

/**
 * Creates (truncates) `file` and checks its file system has `bytes` + {@link spaceMargin} free,
 * so that a following native write cannot fail for those reasons. Throws `DiskFullError` (with
 * the bytes missing), or the `open` error, instead of letting FAISS abort the process.
 */
export async function prepareNativeWrite(file: string, bytes: number): Promise<void> {
  const fh = await open(file, 'w');
  await fh.close();
  const fs = await statfs(path.dirname(file));
  const free = fs.bavail * fs.bsize;
  const need = bytes + spaceMargin(bytes);
  if (free < need) throw new DiskFullError(path.dirname(file), need - free);
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
