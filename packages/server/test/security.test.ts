// Hostile requests over a real socket: traversal attempts, tokens, hosts, origins, CORS,
// security headers and oversized uploads.
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, startServer, type RunningServer } from '../src/index.js';
import { isLoopbackHost } from '../src/security.js';
import { REPO_ROOT, openLibrary, type TestLibrary } from './support/library.js';

let lib: TestLibrary;
let server: RunningServer;

beforeAll(async () => {
  lib = await openLibrary({ count: 6 });
  server = await startServer({ engine: lib.engine, port: 0 });
});

afterAll(async () => {
  await server?.close();
  await lib?.close();
});

/** Sends `raw` request bytes exactly as written (no URL normalisation) and reads the whole response. */
function rawRequest(port: number, raw: string): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const headers = text.slice(0, split);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1] ?? 0), headers, body: text.slice(split + 4) });
    });
    socket.write(raw);
  });
}

const get = (target: string, extra = '') => rawRequest(server.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}Connection: close\r\n\r\n`);

describe('traversal attempts never reach a file outside the catalog', () => {
  const secrets = async () => [await readFile('/etc/passwd', 'latin1').catch(() => 'root:x:0:0'), await readFile(path.join(REPO_ROOT, 'package.json'), 'latin1')];
  const TARGETS = [
    '/api/images/..%2f..%2f..%2fetc%2fpasswd',
    '/api/images/..%2F..%2F..%2Fetc%2Fpasswd',
    '/api/images/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '/api/images/..%252f..%252fetc%252fpasswd',
    '/api/images/%2Fetc%2Fpasswd',
    '/api/images//etc/passwd',
    '/api/images/1/../../../../etc/passwd',
    '/api/images/..\\..\\etc\\passwd',
    '/api/images/..%5c..%5cetc%5cpasswd',
    '/api/images/C:%5CWindows%5Cwin.ini',
    '/api/images/1%00.jpg',
    '/api/images/1%2f..%2f..%2fpackage.json',
    '/api/images/file:%2f%2f%2fetc%2fpasswd',
    '/api/images/1/thumbnail?size=..%2f..%2fetc%2fpasswd',
    '/api/images/%2e%2e/thumbnail',
    '/api/search?q=a&path=..%2F..%2F..%2Fetc',
    '/assets/..%2f..%2f..%2f..%2fpackage.json',
    '/assets/../../../../package.json',
    '/assets/%2e%2e/%2e%2e/package.json',
    '/../../../etc/passwd',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/package.json',
    '/src/index.ts',
    'http://127.0.0.1/../../etc/passwd',
  ];

  it.each(TARGETS)('%s', async (target) => {
    const res = await get(target);
    for (const secret of await secrets()) expect(res.body).not.toContain(secret.slice(0, 40));
    if (target.startsWith('/api/search')) {
      // A path filter is only a filter: no image matches it, nothing is read.
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body).results).toEqual([]);
    } else {
      expect([400, 404]).toContain(res.status);
    }
  });

  it('an absolute path as an id gets 400 over fetch too', async () => {
    const res = await fetch(`${server.url}/api/images/${encodeURIComponent('/etc/passwd')}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { field: string } }).error.field).toBe('id');
  });
});

describe('bearer token', () => {
  it('is generated for a non-loopback bind and required on every route but the static assets', async () => {
    const open = await startServer({ engine: lib.engine, host: '0.0.0.0', port: 0 });
    try {
      expect(open.tokenGenerated).toBe(true);
      expect(open.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(open.openUrl).toContain(`/?token=${open.token}`);
      const base = `http://127.0.0.1:${open.port}`;

      const none = await fetch(`${base}/api/status`);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toContain('Bearer');
      expect(((await none.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');

      const wrong = await fetch(`${base}/api/status`, { headers: { authorization: 'Bearer not-the-token-at-all-0000000000' } });
      expect(wrong.status).toBe(401);
      const malformed = await fetch(`${base}/api/status`, { headers: { authorization: `Basic ${open.token}` } });
      expect(malformed.status).toBe(401);
      const prefix = await fetch(`${base}/api/status`, { headers: { authorization: `Bearer ${open.token!.slice(0, -1)}` } });
      expect(prefix.status).toBe(401);

      const right = await fetch(`${base}/api/status`, { headers: { authorization: `Bearer ${open.token}` } });
      expect(right.status).toBe(200);
      const lower = await fetch(`${base}/api/search?q=a`, { headers: { authorization: `bearer ${open.token}` } });
      expect(lower.status).toBe(200);

      for (const url of ['/api/images/1', '/api/images/1/thumbnail', '/api/sync/events', '/api/openapi.json']) {
        expect((await fetch(`${base}${url}`)).status, url).toBe(401);
      }
      expect((await fetch(`${base}/api/sync`, { method: 'POST' })).status).toBe(401);
      expect((await fetch(`${base}/api/search/image`, { method: 'POST', body: new Uint8Array(10), headers: { 'content-type': 'image/png' } })).status).toBe(401);

      // Static files of the page carry nothing private.
      expect((await fetch(`${base}/assets/style.css`)).status).toBe(200);
    } finally {
      await open.close();
    }
  });

  it('lets a browser in through /?token= (HttpOnly SameSite=Strict cookie) and shows a sign-in page otherwise', async () => {
    const token = 'a-configured-token-of-enough-length';
    const secured = await startServer({ engine: lib.engine, port: 0, token });
    try {
      expect(secured.tokenGenerated).toBe(false);
      const page = await fetch(`${secured.url}/`);
      expect(page.status).toBe(401);
      const html = await page.text();
      expect(html).toContain('access token');
      expect(html).not.toContain(token);

      const bad = await fetch(`${secured.url}/?token=wrong`, { redirect: 'manual' });
      expect(bad.status).toBe(401);
      expect(await bad.text()).toContain('not valid');

      const good = await fetch(`${secured.url}/?token=${token}&q=cats`, { redirect: 'manual' });
      expect(good.status).toBe(303);
      expect(good.headers.get('location')).toBe('/?q=cats');
      const cookie = good.headers.get('set-cookie')!;
      expect(cookie).toMatch(/^pixsearch_token=/);
      expect(cookie).toContain('HttpOnly');
      expect(cookie).toContain('SameSite=Strict');

      const jar = cookie.split(';')[0]!;
      expect((await fetch(`${secured.url}/`, { headers: { cookie: jar } })).status).toBe(200);
      expect((await fetch(`${secured.url}/api/status`, { headers: { cookie: jar } })).status).toBe(200);
      expect((await fetch(`${secured.url}/api/status`, { headers: { cookie: 'pixsearch_token=forged-value-000000000000' } })).status).toBe(401);
      // The token in the query string only works for the page, never for the API.
      expect((await fetch(`${secured.url}/api/status?token=${token}`)).status).toBe(401);
    } finally {
      await secured.close();
    }
  });

  it('refuses tokens that break the token rule (too short, blank, with spaces)', () => {
    expect(() => createApp(lib.engine, { token: 'short' })).toThrow(RangeError);
    expect(() => createApp(lib.engine, { token: ' '.repeat(16) })).toThrow(/all whitespace/);
    expect(() => createApp(lib.engine, { token: 'sixteen chars ok' })).toThrow(/whitespace/);
    expect(() => createApp(lib.engine, { token: '' })).toThrow(/empty/);
    expect(() => createApp(lib.engine, { token: 'a'.repeat(16) })).not.toThrow();
  });

  it('knows which addresses are loopback', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', 'LOCALHOST', 'app.localhost', '::ffff:127.0.0.1']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.10', '10.0.0.1', 'example.com', '128.0.0.1', 'localhost.example.com']) expect(isLoopbackHost(h), h).toBe(false);
  });
});

describe('host, origin and CORS', () => {
  it('answers only to loopback host names without a token (DNS rebinding)', async () => {
    const evil = await get('/api/status', '').then(() => rawRequest(server.port, 'GET /api/status HTTP/1.1\r\nHost: evil.example:1234\r\nConnection: close\r\n\r\n'));
    expect(evil.status).toBe(403);
    expect(evil.body).toContain('HOST_NOT_ALLOWED');
    for (const host of ['localhost', `127.0.0.1:${server.port}`, `[::1]:${server.port}`]) {
      const ok = await rawRequest(server.port, `GET /api/status HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      expect(ok.status, host).toBe(200);
    }
    const app = createApp(lib.engine, { allowedHosts: ['photos.lan'] });
    expect((await app.request('http://photos.lan/api/status')).status).toBe(200);
    expect((await app.request('http://localhost/api/status')).status).toBe(403);
  });

  it('judges an absolute-form request by its Host header too, and refuses several Host headers', async () => {
    const port = server.port;
    const absolute = await rawRequest(port, `GET http://127.0.0.1:${port}/api/status HTTP/1.1\r\nHost: evil.com\r\nConnection: close\r\n\r\n`);
    expect(absolute.status).toBe(403);
    expect(absolute.body).toContain('HOST_NOT_ALLOWED');
    const absoluteEvil = await rawRequest(port, `GET http://evil.com/api/status HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
    expect(absoluteEvil.status).toBe(403);
    const absoluteOk = await rawRequest(port, `GET http://127.0.0.1:${port}/api/status HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
    expect(absoluteOk.status).toBe(200);
    for (const hosts of [['127.0.0.1', 'evil.com'], ['evil.com', '127.0.0.1'], ['localhost', 'localhost']]) {
      const dup = await rawRequest(port, `GET /api/status HTTP/1.1\r\n${hosts.map((h) => `Host: ${h}\r\n`).join('')}Connection: close\r\n\r\n`);
      expect(dup.status, hosts.join(' + ')).toBeGreaterThanOrEqual(400);
      expect(dup.status, hosts.join(' + ')).toBeLessThan(500);
      expect(dup.body).not.toContain('"indexed"');
    }
  });

  it('refuses state-changing requests from other origins', async () => {
    const cross = await fetch(`${server.url}/api/sync`, { method: 'POST', headers: { origin: 'http://evil.example' } });
    expect(cross.status).toBe(403);
    const fetchSite = await fetch(`${server.url}/api/search/image`, { method: 'POST', headers: { 'sec-fetch-site': 'cross-site', 'content-type': 'image/png' }, body: new Uint8Array(4) });
    expect(fetchSite.status).toBe(403);
    const same = await fetch(`${server.url}/api/search/image`, { method: 'POST', headers: { origin: server.url, 'content-type': 'text/plain' }, body: 'x' });
    expect(same.status).toBe(415);
  });

  it('sends no CORS headers unless origins are configured', async () => {
    const res = await fetch(`${server.url}/api/status`, { headers: { origin: 'http://other.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
    const preflight = await fetch(`${server.url}/api/search`, { method: 'OPTIONS', headers: { origin: 'http://other.example', 'access-control-request-method': 'GET' } });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();

    const app = createApp(lib.engine, { corsOrigins: ['http://tool.example'] });
    const allowed = await app.request('/api/status', { headers: { origin: 'http://tool.example' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://tool.example');
    const other = await app.request('/api/status', { headers: { origin: 'http://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await app.request('/api/search', { method: 'OPTIONS', headers: { origin: 'http://tool.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
  });
});

describe('event streams over a socket', () => {
  it('sends the state at once, and releases a listener when its client goes away', async () => {
    const status = async () => ((await (await fetch(`${server.url}/api/status`)).json()) as { syncListeners: number }).syncListeners;
    const before = await status();
    const a = new AbortController();
    const b = new AbortController();
    const resA = await fetch(`${server.url}/api/sync/events`, { signal: a.signal });
    const resB = await fetch(`${server.url}/api/sync/events`, { signal: b.signal });
    expect(resA.headers.get('content-type')).toBe('text/event-stream');
    const first = new TextDecoder().decode((await resA.body!.getReader().read()).value);
    expect(first).toMatch(/^event: state\ndata: \{"running":false/);
    expect(await status()).toBe(before + 2);
    a.abort();
    for (let i = 0; i < 100 && (await status()) !== before + 1; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await status()).toBe(before + 1);
    b.abort();
    await resB.body?.cancel().catch(() => undefined);
    for (let i = 0; i < 100 && (await status()) !== before; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await status()).toBe(before);
  });
});

describe('headers and limits', () => {
  it('sends security headers with a self-only CSP on the page and the API', async () => {
    for (const url of ['/', '/api/status']) {
      const res = await fetch(`${server.url}${url}`);
      await res.arrayBuffer();
      const csp = res.headers.get('content-security-policy')!;
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
  });

  it('answers 413 to an upload over the limit (declared length and chunked)', async () => {
    const big = new Uint8Array(21 * 1024 * 1024);
    const declared = await fetch(`${server.url}/api/search/image`, { method: 'POST', body: big, headers: { 'content-type': 'image/jpeg' } }).catch((e: unknown) => e);
    // The server may answer before the body is fully sent; either way it is a 413, never a search.
    if (declared instanceof Response) expect(declared.status).toBe(413);

    const chunked = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: server.port, path: '/api/search/image', method: 'POST', headers: { 'content-type': 'image/jpeg', 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      const chunk = Buffer.alloc(1024 * 1024, 0xff);
      let sent = 0;
      const pump = (): void => {
        while (sent < 22) {
          sent++;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    });
    expect(chunked).toBe(413);
  });

  it('answers 503 with Retry-After when too many searches wait', async () => {
    const app = createApp(lib.engine, { searchConcurrency: 1, maxQueuedSearches: 0 });
    const responses = await Promise.all(Array.from({ length: 6 }, (_, i) => app.request(`/api/search?q=overload%20${i}`)));
    const statuses = responses.map((r) => r.status);
    expect(statuses).toContain(200);
    expect(statuses).toContain(503);
    const busy = responses.find((r) => r.status === 503)!;
    expect(busy.headers.get('retry-after')).toBe('1');
    expect(((await busy.json()) as { error: { code: string } }).error.code).toBe('OVERLOADED');
    await app.shutdown();
  });
});
