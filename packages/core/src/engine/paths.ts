import path from 'node:path';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a file name read as bytes. Valid UTF-8 comes back as is (`valid: true`); anything else
 * is shown with each undecodable byte escaped as `\xNN` (`valid: false`), which keeps distinct
 * names distinct in the catalog and readable in reports.
 */
export function decodeName(bytes: Uint8Array): { text: string; valid: boolean } {
  try {
    return { text: strictUtf8.decode(bytes), valid: true };
  } catch {
    return { text: escapeInvalidUtf8(bytes), valid: false };
  }
}

function escapeInvalidUtf8(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (len > 0 && i + len <= bytes.length) {
      try {
        out += strictUtf8.decode(bytes.subarray(i, i + len));
        i += len;
        continue;
      } catch {
        // fall through: escape this byte
      }
    }
    out += `\\x${b.toString(16).toUpperCase().padStart(2, '0')}`;
    i++;
  }
  return out;
}

/** Joins a root and a `/`-separated root-relative path into an absolute OS path. */
export function joinRoot(root: string, rel: string): string {
  return rel === '' ? root : path.join(root, ...rel.split('/'));
}

/** Lower-cased extension of a `/`-separated path, without the dot (`''` when none). */
export function extensionOf(rel: string): string {
  const base = rel.slice(rel.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? '' : base.slice(dot + 1).toLowerCase();
}

/** True when `inner` equals `outer` or lies inside it (both absolute, normalised). */
export function isWithin(outer: string, inner: string): boolean {
  const rel = path.relative(outer, inner);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
