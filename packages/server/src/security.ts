/**
 * Access control: bearer token (header or cookie), Host-header allow-list (DNS rebinding),
 * and an Origin check on state-changing requests (CSRF). Everything here runs before routing.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import type { ErrorBody } from './http-errors.js';
import { renderTokenPage } from './page/token-page.js';

/** A fresh per-run owner secret for the discovery file (32 random bytes, base64url). */
export function generateOwnerSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Cookie that carries the token for the page (HttpOnly, SameSite=Strict). */
export const TOKEN_COOKIE = 'pixsearch_token';

/** A fresh random access token (32 bytes, base64url: 43 characters). */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/** True for addresses only this machine can reach: `localhost`, 127.0.0.0/8, `::1`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Constant-time token comparison. */
export function tokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  return timingSafeEqual(digest(given), digest(expected));
}

function deny(c: Context, status: 400 | 401 | 403, code: string, message: string): Response {
  const body: ErrorBody = { error: { code, message } };
  if (status === 401) c.header('WWW-Authenticate', 'Bearer realm="pixsearch"');
  return c.json(body, status);
}

function isApi(path: string): boolean {
  return path === '/api' || path.startsWith('/api/');
}

/** Static assets the token page itself needs (public, contain nothing private). */
function isPublicAsset(path: string): boolean {
  return path.startsWith('/assets/') || path === '/favicon.ico';
}

/** The host name of a `Host` header value (`name[:port]`, `[v6]:port`), lower case, without brackets; undefined when malformed. */
function hostName(value: string): string | undefined {
  const v = value.trim();
  if (v === '' || /[\s/?#@\\]/.test(v)) return undefined;
  try {
    return new URL(`http://${v}`).hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  } catch {
    return undefined;
  }
}

/**
 * Rejects requests whose `Host` is not in `allowed` (names compared without the port), which
 * defeats DNS-rebinding attacks on a server that has no token. `allowed === true` allows any.
 *
 * Both the `Host` header and the host of the request target must be allowed: an absolute-form
 * request (`GET http://127.0.0.1/api/status` with `Host: evil.com`) is judged by both, and a
 * request with several `Host` headers (joined with commas by the fetch Headers) is refused.
 */
export function hostCheck(allowed: readonly string[] | true): MiddlewareHandler {
  const names = allowed === true ? undefined : new Set(allowed.map((h) => h.toLowerCase().replace(/^\[(.*)\]$/, '$1')));
  return async (c, next) => {
    if (names) {
      const header = c.req.header('host');
      if (header !== undefined && header.includes(',')) return deny(c, 400, 'BAD_HOST', 'the request has several Host headers');
      const claimed = [new URL(c.req.url).hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1')];
      if (header !== undefined) {
        const name = hostName(header);
        if (name === undefined) return deny(c, 400, 'BAD_HOST', 'the Host header is malformed');
        claimed.push(name);
      }
      for (const host of claimed) {
        if (!names.has(host)) return deny(c, 403, 'HOST_NOT_ALLOWED', `host "${host}" is not allowed; open the server by its loopback address`);
      }
    }
    await next();
  };
}

/**
 * For methods that change state (POST, PUT, PATCH, DELETE): when the browser says where the
 * request comes from (`Origin`, `Sec-Fetch-Site`), it must be this server or a configured
 * CORS origin. Non-browser clients send neither and pass.
 */
export function originCheck(corsOrigins: readonly string[]): MiddlewareHandler {
  const allowed = new Set(corsOrigins);
  return async (c, next) => {
    const method = c.req.method;
    if (method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS') {
      const origin = c.req.header('origin');
      const self = new URL(c.req.url).origin;
      if (origin !== undefined && origin !== self && !allowed.has(origin)) {
        return deny(c, 403, 'CROSS_ORIGIN', 'cross-origin request refused');
      }
      if (origin === undefined && c.req.header('sec-fetch-site') === 'cross-site') {
        return deny(c, 403, 'CROSS_ORIGIN', 'cross-origin request refused');
      }
    }
    await next();
  };
}

/**
 * Requires `token` on every request except the public static assets: as
 * `Authorization: Bearer <token>` (API clients) or the {@link TOKEN_COOKIE} cookie (the page).
 * `GET /?token=<token>` (the link printed at start-up) sets the cookie and redirects to `/`.
 * A missing or wrong token gets 401: JSON under `/api`, a small sign-in page elsewhere.
 */
export function tokenAuth(token: string): MiddlewareHandler {
  return async (c, next) => {
    const path = c.req.path;
    if (isPublicAsset(path)) return next();
    const header = c.req.header('authorization');
    if (header !== undefined) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!m || !tokenMatches(m[1], token)) return deny(c, 401, 'UNAUTHORIZED', 'invalid bearer token');
      return next();
    }
    if (tokenMatches(getCookie(c, TOKEN_COOKIE), token)) return next();
    if (!isApi(path) && c.req.method === 'GET') {
      const given = c.req.query('token');
      if (given !== undefined && tokenMatches(given, token)) {
        const secure = new URL(c.req.url).protocol === 'https:';
        setCookie(c, TOKEN_COOKIE, token, { httpOnly: true, sameSite: 'Strict', path: '/', secure });
        const url = new URL(c.req.url);
        url.searchParams.delete('token');
        return c.redirect(`${url.pathname}${url.search}`, 303);
      }
      c.header('WWW-Authenticate', 'Bearer realm="pixsearch"');
      return c.html(renderTokenPage(given !== undefined), 401);
    }
    return deny(c, 401, 'UNAUTHORIZED', 'this server requires a bearer token (Authorization: Bearer <token>)');
  };
}
