// Small helpers shared by the page's modules: DOM building (textContent only, never innerHTML),
// the JSON API client, formatting, the clipboard and the toast.
/* global document, fetch, navigator, setTimeout, clearTimeout */

/** The element with this id. */
export const $ = (id) => /** @type {any} */ (document.getElementById(id));

/** A new element with a class and text (set as textContent). */
export const el = (tag, cls, text) => {
  const n = document.createElement(tag);
  if (cls) n.className = cls;
  if (text !== undefined) n.textContent = text;
  return n;
};

/** An API error: `status` is the HTTP status (0 when the server cannot be reached), `code` the API's error code. */
export class ApiError extends Error {
  constructor(message, status, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Fetches a JSON API route; throws {@link ApiError} with the server's message on failure. */
export async function api(url, init) {
  let res;
  try {
    res = await fetch(url, { credentials: 'same-origin', ...init });
  } catch {
    if (init && init.signal && init.signal.aborted) throw new ApiError('cancelled', 0, 'ABORTED');
    throw new ApiError('The server cannot be reached.', 0, 'NETWORK');
  }
  const type = res.headers.get('content-type') || '';
  const body = type.includes('application/json') ? await res.json().catch(() => null) : null;
  if (!res.ok) {
    const err = body && body.error;
    throw new ApiError(err ? err.message : `HTTP ${res.status}`, res.status, err ? err.code : 'HTTP');
  }
  return body;
}

/** Last segment of a `/`-separated path. */
export function fileName(path) {
  const i = path.lastIndexOf('/');
  return i >= 0 ? path.slice(i + 1) : path;
}

/** Folder part of a `/`-separated path ('' at the top). */
export function folderOf(path) {
  const i = path.lastIndexOf('/');
  return i >= 0 ? path.slice(0, i) : '';
}

/** The absolute path of a result: its root joined with its root-relative path. */
export function absPath(r) {
  if (r.absPath) return r.absPath;
  const sep = r.root.includes('\\') && !r.root.includes('/') ? '\\' : '/';
  return r.root.endsWith(sep) ? r.root + r.path : `${r.root}${sep}${r.path}`;
}

/** Bytes as "1.4 MB" (decimal units, like file managers). */
export function fmtBytes(n) {
  if (!Number.isFinite(n) || n < 0) return '';
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** "1,234" */
export const fmtInt = (n) => Number(n).toLocaleString('en-US');

/**
 * Copies text to the clipboard: the async Clipboard API where the page is a secure context,
 * else a selected off-screen textarea and `execCommand('copy')` (plain HTTP on a LAN).
 * Resolves true when the text was copied.
 */
export async function copyText(text) {
  try {
    if (navigator.clipboard && document.defaultView && document.defaultView.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall back below
  }
  const ta = el('textarea', 'offscreen');
  ta.value = text;
  ta.setAttribute('readonly', '');
  const active = document.activeElement;
  (document.querySelector('dialog[open]') || document.body).append(ta);
  ta.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  ta.remove();
  if (active && typeof active.focus === 'function') active.focus();
  return ok;
}

let toastTimer = 0;
/** Shows a short message at the bottom of the page for 5 s. */
export function toast(text, isError = false) {
  const t = $('toast');
  t.textContent = text;
  t.classList.toggle('error', isError);
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    t.hidden = true;
  }, 5000);
}
