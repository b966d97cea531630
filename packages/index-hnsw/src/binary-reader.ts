import { open, type FileHandle } from 'node:fs/promises';

/**
 * Sequential little-endian reader over a file, buffered in chunks, for validating native index
 * files in JavaScript before a native loader (which may crash on a malformed file) sees them.
 * The caller owns the reader and must `close()` it.
 */
export class BinaryFileReader {
  private buf: Buffer;
  private start = 0; // first unread byte in buf
  private end = 0; // one past the last valid byte in buf
  private filePos = 0; // file offset of buf[end]
  /** File offset of the next unread byte. */
  get position(): number {
    return this.filePos - (this.end - this.start);
  }

  private constructor(
    private readonly fh: FileHandle,
    /** File size in bytes. */
    readonly size: number,
    chunkBytes: number,
  ) {
    this.buf = Buffer.allocUnsafe(chunkBytes);
  }

  static async open(file: string, chunkBytes = 1 << 20): Promise<BinaryFileReader> {
    const fh = await open(file, 'r');
    try {
      const { size } = await fh.stat();
      return new BinaryFileReader(fh, size, chunkBytes);
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  /** Bytes left after the current position. */
  get remaining(): number {
    return this.size - this.position;
  }

  /**
   * Returns a view of the next `n` bytes and advances past them. The view is valid until the
   * next call. Throws `RangeError` when fewer than `n` bytes remain (a truncated file).
   */
  async take(n: number): Promise<Buffer> {
    if (n > this.remaining) throw new RangeError(`needs ${n} bytes at offset ${this.position}, only ${this.remaining} left`);
    if (this.end - this.start < n) await this.fill(n);
    const view = this.buf.subarray(this.start, this.start + n);
    this.start += n;
    return view;
  }

  /** Advances `n` bytes without reading them. */
  async skip(n: number): Promise<void> {
    if (n > this.remaining) throw new RangeError(`cannot skip ${n} bytes at offset ${this.position}, only ${this.remaining} left`);
    const buffered = this.end - this.start;
    if (n <= buffered) {
      this.start += n;
      return;
    }
    this.filePos += n - buffered;
    this.start = this.end = 0;
  }

  private async fill(n: number): Promise<void> {
    const kept = this.end - this.start;
    if (n > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(n, this.buf.length * 2));
      this.buf.copy(bigger, 0, this.start, this.end);
      this.buf = bigger;
    } else {
      this.buf.copy(this.buf, 0, this.start, this.end);
    }
    this.start = 0;
    this.end = kept;
    while (this.end < n) {
      const { bytesRead } = await this.fh.read(this.buf, this.end, this.buf.length - this.end, this.filePos);
      if (bytesRead === 0) throw new RangeError(`file ended at offset ${this.filePos}`);
      this.end += bytesRead;
      this.filePos += bytesRead;
    }
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** fsyncs a file written by a native library, so the rename that publishes it is durable. */
export async function fsyncFile(file: string): Promise<void> {
  const fh = await open(file, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
