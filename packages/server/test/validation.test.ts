// Every validation error of the API: 400 with a JSON body naming the field, before the engine
// is asked anything.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type PixsearchApp } from '../src/index.js';
import { ErrorSchema } from '../src/schemas.js';
import { openLibrary, type TestLibrary } from './support/library.js';

let lib: TestLibrary;
let app: PixsearchApp;

beforeAll(async () => {
  lib = await openLibrary({ count: 4 });
  app = createApp(lib.engine);
});

afterAll(async () => {
  await app?.shutdown();
  await lib?.close();
});

const long = (n: number) => 'a'.repeat(n);

// [description, method, url, field]
const CASES: [string, 'GET' | 'POST', string, string][] = [
  ['missing q', 'GET', '/api/search', 'q'],
  ['empty q', 'GET', '/api/search?q=', 'q'],
  ['blank q', 'GET', '/api/search?q=%20%20%20', 'q'],
  ['q too long', 'GET', `/api/search?q=${long(501)}`, 'q'],
  ['q with control characters', 'GET', '/api/search?q=a%00b', 'q'],
  ['q given twice', 'GET', '/api/search?q=a&q=b', 'q'],
  ['k zero', 'GET', '/api/search?q=a&k=0', 'k'],
  ['k negative', 'GET', '/api/search?q=a&k=-3', 'k'],
  ['k too large', 'GET', '/api/search?q=a&k=201', 'k'],
  ['k not a number', 'GET', '/api/search?q=a&k=ten', 'k'],
  ['k fractional', 'GET', '/api/search?q=a&k=1.5', 'k'],
  ['k in exponent form', 'GET', '/api/search?q=a&k=1e2', 'k'],
  ['k hexadecimal', 'GET', '/api/search?q=a&k=0x10', 'k'],
  ['k empty', 'GET', '/api/search?q=a&k=', 'k'],
  ['k huge', 'GET', '/api/search?q=a&k=99999999999999999999', 'k'],
  ['offset negative', 'GET', '/api/search?q=a&offset=-1', 'offset'],
  ['offset too large', 'GET', '/api/search?q=a&offset=10001', 'offset'],
  ['offset not a number', 'GET', '/api/search?q=a&offset=abc', 'offset'],
  ['threshold above 1', 'GET', '/api/search?q=a&threshold=1.5', 'threshold'],
  ['threshold below -1', 'GET', '/api/search?q=a&threshold=-2', 'threshold'],
  ['threshold NaN', 'GET', '/api/search?q=a&threshold=NaN', 'threshold'],
  ['threshold Infinity', 'GET', '/api/search?q=a&threshold=Infinity', 'threshold'],
  ['relative negative', 'GET', '/api/search?q=a&relative=-0.1', 'relative'],
  ['relative above 2', 'GET', '/api/search?q=a&relative=3', 'relative'],
  ['path empty', 'GET', '/api/search?q=a&path=', 'path'],
  ['path too long', 'GET', `/api/search?q=a&path=${long(1025)}`, 'path'],
  ['path with a NUL', 'GET', '/api/search?q=a&path=x%00y', 'path'],
  ['image-search k too large', 'POST', '/api/search/image?k=500', 'k'],
  ['image-search offset negative', 'POST', '/api/search/image?offset=-5', 'offset'],
  ['similar: id not numeric', 'GET', '/api/images/abc/similar', 'id'],
  ['similar: threshold bad', 'GET', '/api/images/1/similar?threshold=x', 'threshold'],
  ['similar: k too large', 'GET', '/api/images/1/similar?k=1000', 'k'],
  ['image: id not numeric', 'GET', '/api/images/abc', 'id'],
  ['image: id negative', 'GET', '/api/images/-1', 'id'],
  ['image: id fractional', 'GET', '/api/images/1.5', 'id'],
  ['image: id with leading zero', 'GET', '/api/images/01', 'id'],
  ['image: id beyond 2^53', 'GET', '/api/images/99999999999999999', 'id'],
  ['image: id with spaces', 'GET', '/api/images/%201', 'id'],
  ['thumbnail: id not numeric', 'GET', '/api/images/x/thumbnail', 'id'],
  ['thumbnail: size not in the set', 'GET', '/api/images/1/thumbnail?size=100', 'size'],
  ['thumbnail: size huge', 'GET', '/api/images/1/thumbnail?size=100000', 'size'],
  ['thumbnail: size not a number', 'GET', '/api/images/1/thumbnail?size=big', 'size'],
];

describe('validation errors', () => {
  it.each(CASES)('%s → 400 naming the field', async (_name, method, url, field) => {
    const init: RequestInit = { method };
    if (method === 'POST') {
      init.body = new Uint8Array([0xff, 0xd8, 0xff, 0xe0]);
      init.headers = { 'content-type': 'image/jpeg' };
    }
    const res = await app.request(url, init);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/json');
    const body = ErrorSchema.parse(await res.json());
    expect(body.error.code).toBe('INVALID_ARGUMENT');
    expect(body.error.field).toBe(field);
    expect(body.error.message.startsWith(`${field}: `)).toBe(true);
    expect(body.error.issues?.some((i) => i.field === field)).toBe(true);
  });

  it('lists every invalid field at once', async () => {
    const res = await app.request('/api/search?k=0&offset=-1&threshold=7');
    const body = ErrorSchema.parse(await res.json());
    expect(body.error.issues!.map((i) => i.field).sort()).toEqual(['k', 'offset', 'q', 'threshold']);
  });

  it('accepts the bounds themselves', async () => {
    for (const url of ['/api/search?q=a&k=1', '/api/search?q=a&k=200&offset=10000', '/api/search?q=a&threshold=-1', '/api/search?q=a&threshold=1&relative=2', `/api/search?q=${long(500)}`]) {
      const res = await app.request(url);
      expect(res.status, url).toBe(200);
    }
  });
});
