import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipEmbedder, defaultCacheDir, downloadFile, listCachedModels, pullModel, requiredFiles, resolveModel } from '../src/clip/index.js';
import { ModelBundleError, ModelDownloadError } from '../src/errors.js';
import { ensureTinyBundle } from '../src/testing/index.js';

/** A loopback "hub" serving a bundle folder at /<owner>/<name>/resolve/main/<file>, with Range support. */
interface Hub {
  url: string;
  requests: { path: string; range: string | undefined }[];
  /** Paths whose next response is cut after this many bytes. */
  cutAfter: Map<string, number>;
  server: Server;
}

async function startHub(bundle: string, repo: string): Promise<Hub> {
  const hub: Hub = { url: '', requests: [], cutAfter: new Map(), server: undefined as unknown as Server };
  const prefix = `/${repo}/resolve/main/`;
  hub.server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const url = decodeURIComponent(req.url ?? '');
    hub.requests.push({ path: url, range: req.headers.range });
    if (!url.startsWith(prefix)) {
      res.writeHead(404).end('Repository not found');
      return;
    }
    let data: Buffer;
    try {
      data = await readFile(path.join(bundle, url.slice(prefix.length)));
    } catch {
      res.writeHead(404).end('Entry not found');
      return;
    }
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m) start = Number(m[1]);
    const body = data.subarray(start);
    const headers: Record<string, string | number> = { 'content-length': body.length, 'content-type': 'application/octet-stream' };
    if (m) headers['content-range'] = `bytes ${start}-${data.length - 1}/${data.length}`;
    res.writeHead(m ? 206 : 200, headers);
    const cut = hub.cutAfter.get(url);
    if (cut !== undefined) {
      hub.cutAfter.delete(url);
      res.write(body.subarray(0, cut), () => res.destroy());
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => hub.server.listen(0, '127.0.0.1', r));
  hub.url = `http://127.0.0.1:${(hub.server.address() as AddressInfo).port}`;
  return hub;
}

let tiny: string;
let tmp: string;
let hub: Hub;
const REPO = 'pixsearch-test/tiny-clip';

beforeAll(async () => {
  tiny = await ensureTinyBundle();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'pixsearch-cache-'));
  hub = await startHub(tiny, REPO);
});
afterAll(async () => {
  hub.server.closeAllConnections();
  await new Promise((r) => hub.server.close(r));
  await rm(tmp, { recursive: true, force: true });
});

describe('model download into the cache', () => {
  it('downloads a hub id once, with progress, into <cache>/<owner>/<name>', async () => {
    const cacheDir = path.join(tmp, 'c1');
    const progress: { file: string; received: number; total: number | undefined }[] = [];
    const folder = await resolveModel(REPO, { cacheDir, hubUrl: hub.url, onProgress: (p) => progress.push(p) });
    expect(folder).toBe(path.join(cacheDir, 'pixsearch-test', 'tiny-clip'));
    for (const f of requiredFiles({ vision: 'fp32', text: 'quantized' })) {
      expect((await readFile(path.join(folder, f))).equals(await readFile(path.join(tiny, f))), f).toBe(true);
    }
    const last = progress.filter((p) => p.file === 'onnx/vision_model.onnx').at(-1)!;
    expect(last.received).toBe(last.total);
    const before = hub.requests.length;
    expect(await resolveModel(REPO, { cacheDir, hubUrl: hub.url })).toBe(folder);
    expect(hub.requests.length).toBe(before);
    const listed = await listCachedModels(cacheDir);
    expect(listed.map((m) => m.id)).toEqual([REPO]);
    expect(listed[0]!.files).toContain('onnx/text_model_quantized.onnx');
  });

  it('resumes a cut connection with a Range request and renames only the complete file', async () => {
    const cacheDir = path.join(tmp, 'c2');
    const file = `/${REPO}/resolve/main/onnx/vision_model.onnx`;
    hub.cutAfter.set(file, 100_000);
    hub.requests.length = 0;
    const folder = await pullModel(REPO, { cacheDir, hubUrl: hub.url });
    const tries = hub.requests.filter((r) => r.path === file);
    expect(tries).toHaveLength(2);
    expect(tries[0]!.range).toBeUndefined();
    // The second request continues where the first stopped (what reached the disk before the cut).
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(tries[1]!.range ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(100_000);
    expect((await readFile(path.join(folder, 'onnx/vision_model.onnx'))).equals(await readFile(path.join(tiny, 'onnx/vision_model.onnx')))).toBe(true);
    expect((await readdir(path.join(folder, 'onnx'))).some((f) => f.endsWith('.part'))).toBe(false);
  });

  it('continues a .part left by an earlier process', async () => {
    const dest = path.join(tmp, 'c3', 'model.onnx');
    await mkdir(path.dirname(dest), { recursive: true });
    const full = await readFile(path.join(tiny, 'onnx/text_model.onnx'));
    await writeFile(`${dest}.part`, full.subarray(0, 12345));
    hub.requests.length = 0;
    await downloadFile(`${hub.url}/${REPO}/resolve/main/onnx/text_model.onnx`, dest);
    expect(hub.requests.map((r) => r.range)).toEqual(['bytes=12345-']);
    expect((await readFile(dest)).equals(full)).toBe(true);
    await expect(stat(`${dest}.part`)).rejects.toThrow();
  });

  it('concurrent pulls of one model share the download; a stale lock is taken over', async () => {
    const cacheDir = path.join(tmp, 'c7');
    hub.requests.length = 0;
    const folder = path.join(cacheDir, 'pixsearch-test', 'tiny-clip');
    await mkdir(path.join(folder, 'onnx'), { recursive: true });
    // A lock left by a process that no longer exists.
    await writeFile(path.join(folder, 'onnx/vision_model.onnx.lock'), '999999999');
    const [a, b] = await Promise.all([pullModel(REPO, { cacheDir, hubUrl: hub.url }), pullModel(REPO, { cacheDir, hubUrl: hub.url })]);
    expect(a).toBe(b);
    const visionGets = hub.requests.filter((r) => r.path.endsWith('/onnx/vision_model.onnx'));
    expect(visionGets).toHaveLength(1);
    expect((await readFile(path.join(folder, 'onnx/vision_model.onnx'))).equals(await readFile(path.join(tiny, 'onnx/vision_model.onnx')))).toBe(true);
    expect((await readdir(path.join(folder, 'onnx'))).filter((f) => f.endsWith('.lock') || f.endsWith('.part'))).toEqual([]);
  });

  it('a file the hub does not have → ModelDownloadError naming it (404)', async () => {
    const err = await pullModel(REPO, { cacheDir: path.join(tmp, 'c4'), hubUrl: hub.url, files: ['onnx/vision_model_fp16.onnx'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelDownloadError);
    expect((err as Error).message).toMatch(/vision_model_fp16\.onnx.*404/);
    const noRepo = await pullModel('nobody/nothing', { cacheDir: path.join(tmp, 'c4'), hubUrl: hub.url }).catch((e: unknown) => e);
    expect(noRepo).toBeInstanceOf(ModelDownloadError);
  });

  it('offline → ModelDownloadError naming the exact files and the folder to put them in', async () => {
    const cacheDir = path.join(tmp, 'c5');
    // A port nobody listens on: connection refused, like a machine without network.
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as AddressInfo).port;
    await new Promise((r) => dead.close(r));
    const err = (await pullModel(REPO, { cacheDir, hubUrl: `http://127.0.0.1:${port}` }).catch((e: unknown) => e)) as ModelDownloadError;
    expect(err).toBeInstanceOf(ModelDownloadError);
    const folder = path.join(cacheDir, 'pixsearch-test', 'tiny-clip');
    expect(err.message).toContain(folder);
    for (const f of requiredFiles({ vision: 'fp32', text: 'quantized' })) expect(err.message).toContain(f);
    expect(err.hint).toContain(`/${REPO}/resolve/main/onnx/vision_model.onnx`);
    const offline = (await pullModel(REPO, { cacheDir, offline: true }).catch((e: unknown) => e)) as ModelDownloadError;
    expect(offline.message).toMatch(/offline/);
  });

  it('ClipEmbedder.create downloads the variants it needs and embeds', async () => {
    const cacheDir = path.join(tmp, 'c6');
    const e = await ClipEmbedder.create({ model: REPO, cacheDir, hubUrl: hub.url, variant: { vision: 'quantized', text: 'fp32' } });
    try {
      expect(e.modelId).toBe(`${REPO}#vision=quantized,text=fp32`);
      const files = await readdir(path.join(cacheDir, 'pixsearch-test', 'tiny-clip', 'onnx'));
      expect(files.sort()).toEqual(['text_model.onnx', 'vision_model_quantized.onnx']);
      expect(await e.embedTexts(['a cat'])).toHaveLength(32);
    } finally {
      await e.close();
    }
  });

  it('local folders resolve as they are; a missing path is a bundle error; the default cache honours PIXSEARCH_CACHE', async () => {
    expect(await resolveModel(tiny)).toBe(tiny);
    await expect(resolveModel(path.join(tmp, 'missing-folder'))).rejects.toBeInstanceOf(ModelBundleError);
    await expect(resolveModel('./relative/missing')).rejects.toBeInstanceOf(ModelBundleError);
    const saved = process.env.PIXSEARCH_CACHE;
    process.env.PIXSEARCH_CACHE = path.join(tmp, 'env-cache');
    try {
      expect(defaultCacheDir()).toBe(path.join(tmp, 'env-cache'));
    } finally {
      if (saved === undefined) delete process.env.PIXSEARCH_CACHE;
      else process.env.PIXSEARCH_CACHE = saved;
    }
  });
});
