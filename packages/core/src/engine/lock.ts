import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DataDirInUseError } from '../errors.js';

/** File whose SQLite EXCLUSIVE lock marks the data directory's single writer. */
export const LOCK_FILE = 'writer.lock';
/** Informational: pid and host of the current writer (for the "in use" message). */
export const LOCK_INFO_FILE = 'writer.pid';

/**
 * The data directory's writer lock. It is an operating-system lock (SQLite's `BEGIN EXCLUSIVE`
 * on `writer.lock`, i.e. POSIX advisory locks), so the kernel releases it when the holder exits
 * in any way, `kill -9` included: there is no stale lock file to detect or clean up. A second
 * writer — in another process or the same one — gets `DataDirInUseError` immediately.
 */
export class WriterLock {
  private constructor(
    private readonly db: Database.Database,
    private readonly infoFile: string,
  ) {}

  /** Takes the lock or throws `DataDirInUseError`. The caller must `release()` it. */
  static acquire(dataDir: string): WriterLock {
    const db = new Database(path.join(dataDir, LOCK_FILE), { timeout: 0 });
    try {
      db.exec('BEGIN EXCLUSIVE');
    } catch (err) {
      db.close();
      if ((err as { code?: string }).code === 'SQLITE_BUSY' || (err as { code?: string }).code === 'SQLITE_LOCKED') {
        throw new DataDirInUseError(dataDir, readHolderPid(path.join(dataDir, LOCK_INFO_FILE)));
      }
      throw err;
    }
    const infoFile = path.join(dataDir, LOCK_INFO_FILE);
    try {
      writeFileSync(infoFile, JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }) + '\n');
    } catch {
      // informational only
    }
    return new WriterLock(db, infoFile);
  }

  /** Releases the lock. Idempotent. */
  release(): void {
    if (!this.db.open) return;
    try {
      rmSync(this.infoFile, { force: true });
    } catch {
      // informational only
    }
    try {
      this.db.exec('ROLLBACK');
    } finally {
      this.db.close();
    }
  }
}

function readHolderPid(file: string): number | undefined {
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown };
    return typeof info.pid === 'number' ? info.pid : undefined;
  } catch {
    return undefined;
  }
}
