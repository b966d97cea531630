import { createHash } from 'node:crypto';
import { openRegularFile } from '../regular-file.js';
import { sniffImage, type Sniffed } from './sniff.js';

/** Bytes kept from the start of a file for format sniffing. */
const HEAD_BYTES = 256 * 1024;
const CHUNK_BYTES = 1 << 20;

export interface Inspected {
  /** SHA-256 of the content, hex. */
  hash: string;
  sniffed: Sniffed;
  bytes: number;
  /** The file's first bytes (up to 256 KiB): metadata is read from them without a second read. */
  head: Buffer;
}

/**
 * Reads a file once: SHA-256 of the whole content and the format/dimensions declared by its
 * first bytes. Rejects with the file system error (EACCES, EIO…) when it cannot be read, and with
 * NotAFileError (at once, never blocking) when the path holds a FIFO, a device or a folder.
 */
export async function inspectFile(file: string | Buffer): Promise<Inspected> {
  const fh = await openRegularFile(file);
  try {
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    let head: Buffer | undefined;
    let bytes = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      if (!head) head = Buffer.from(chunk.subarray(0, HEAD_BYTES));
      else if (head.length < HEAD_BYTES) head = Buffer.concat([head, chunk.subarray(0, HEAD_BYTES - head.length)]);
      hash.update(chunk);
      bytes += bytesRead;
    }
    const first = head ?? Buffer.alloc(0);
    return { hash: hash.digest('hex'), sniffed: sniffImage(first), bytes, head: first };
  } finally {
    await fh.close();
  }
}
