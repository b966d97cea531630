// The folder watcher over real @parcel/watcher (inotify) subscriptions on temporary folders.
// No sleeps: every wait is for an event the watcher emits.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FolderWatcher, type SubscribeFn } from '../src/engine/folder-watcher.js';
import { removeDir, tempDir } from './engine-helpers.js';

const open: FolderWatcher[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const w of open.splice(0)) await w.close();
  for (const d of dirs.splice(0)) await removeDir(d);
});

async function setup(options: Partial<Parameters<typeof FolderWatcher.start>[0]> = {}) {
  const dir = await tempDir('pixsearch-watch-');
  dirs.push(dir);
  const root = path.join(dir, 'photos');
  const data = path.join(root, 'library-data');
  await mkdir(data, { recursive: true });
  const syncs: number[] = [];
  const seen = new Set<string>();
  const w = await FolderWatcher.start({
    roots: [root],
    exclude: [data],
    quietMs: 50,
    maxDelayMs: 400,
    sync: async () => {
      syncs.push(seen.size);
      return syncs.length;
    },
    ...options,
  });
  w.on('change', (paths) => paths.forEach((p) => seen.add(p)));
  open.push(w);
  /** Resolves once `file` has been reported and every sync it caused has finished. */
  const synced = async (file: string) => {
    if (!seen.has(file)) {
      await new Promise<void>((resolve) => {
        const on = (paths: string[]) => {
          if (paths.includes(file)) {
            w.off('change', on);
            resolve();
          }
        };
        w.on('change', on);
      });
    }
    await w.idle();
  };
  return { dir, root, data, w, syncs, seen, synced };
}

describe('FolderWatcher', () => {
  it('coalesces a burst of new files into a few syncs, and the last one sees every file', async () => {
    const { root, w, syncs, seen, synced } = await setup();
    expect(w.mode).toBe('events');
    await mkdir(path.join(root, 'burst'));
    const files = Array.from({ length: 400 }, (_, i) => path.join(root, 'burst', `img-${i}.jpg`));
    for (const f of files) await writeFile(f, 'x');
    const marker = path.join(root, 'zz-marker.png');
    await writeFile(marker, 'x');
    await synced(marker);
    for (const f of files) expect(seen.has(f)).toBe(true);
    // Every file reported before the last sync started.
    expect(syncs[syncs.length - 1]).toBeGreaterThanOrEqual(files.length);
    expect(syncs.length).toBeGreaterThanOrEqual(1);
    expect(syncs.length).toBeLessThan(files.length / 10);
  });

  it('reports renames, moves and deletions; ignores hidden folders, excluded folders and non-images', async () => {
    const { root: r, data, seen, synced } = await setup();
    await writeFile(path.join(r, 'a.jpg'), 'x');
    await synced(path.join(r, 'a.jpg'));
    await mkdir(path.join(r, 'sub'));
    await rename(path.join(r, 'a.jpg'), path.join(r, 'sub', 'b.jpg'));
    await synced(path.join(r, 'sub', 'b.jpg'));
    await writeFile(path.join(data, 'catalog.jpg'), 'x');
    await writeFile(path.join(r, 'notes.txt'), 'x');
    await mkdir(path.join(r, '.hidden'));
    await writeFile(path.join(r, '.hidden', 'c.jpg'), 'x');
    await rm(path.join(r, 'sub', 'b.jpg'));
    const marker = path.join(r, 'marker.webp');
    await writeFile(marker, 'x');
    await synced(marker);
    expect(seen.has(path.join(r, 'sub', 'b.jpg'))).toBe(true);
    expect(seen.has(path.join(data, 'catalog.jpg'))).toBe(false);
    expect(seen.has(path.join(r, 'notes.txt'))).toBe(false);
    expect(seen.has(path.join(r, '.hidden', 'c.jpg'))).toBe(false);
  });

  it('follows roots added later; a root that vanishes is a warning and a sync, not a switch to rescans', async () => {
    const { dir, w, synced } = await setup();
    const extra = path.join(dir, 'extra');
    await mkdir(extra);
    await w.addRoots([extra]);
    const warnings: string[] = [];
    w.on('warning', (m) => warnings.push(m));
    const f = path.join(extra, 'x.jpg');
    await writeFile(f, 'x');
    await synced(f);
    await rm(extra, { recursive: true });
    // Whatever the watcher reports for a removed root, it keeps watching the others.
    const marker = path.join(dir, 'photos', 'after.jpg');
    await writeFile(marker, 'x');
    await synced(marker);
    expect(w.mode).toBe('events');
  });

  it('holds changes while paused and syncs them on resume; never runs two syncs at once', async () => {
    let running = 0;
    let maxRunning = 0;
    let release: (() => void) | undefined;
    const { root, w, syncs, synced } = await setup({
      paused: true,
      sync: async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        syncs.push(0);
        if (syncs.length === 1) await new Promise<void>((r) => (release = r));
        running--;
      },
    });
    const first = path.join(root, 'first.jpg');
    const changed = new Promise<void>((resolve) => w.once('change', () => resolve()));
    await writeFile(first, 'x');
    await changed;
    expect(syncs).toHaveLength(0);
    const started = new Promise<void>((resolve) => w.once('syncing', () => resolve()));
    w.resume();
    await started;
    // A change during the first sync waits for it, then gets its own.
    const second = path.join(root, 'second.jpg');
    const changed2 = new Promise<void>((resolve) => w.once('change', () => resolve()));
    await writeFile(second, 'x');
    await changed2;
    expect(syncs).toHaveLength(1);
    release!();
    await synced(second);
    expect(syncs).toHaveLength(2);
    expect(maxRunning).toBe(1);
  });

  it('falls back to periodic rescans with a clear message when inotify runs out of watches (ENOSPC)', async () => {
    const enospc: SubscribeFn = async () => {
      throw Object.assign(new Error("inotify_add_watch on '/x' failed: No space left on device"), { code: 'ENOSPC' });
    };
    const dir = await tempDir('pixsearch-watch-');
    dirs.push(dir);
    let syncs = 0;
    let rescanned: () => void = () => undefined;
    const twoSyncs = new Promise<void>((r) => (rescanned = r));
    const w = await FolderWatcher.start({
      roots: [dir],
      subscribe: enospc,
      rescanMs: 20,
      sync: async () => {
        if (++syncs === 2) rescanned();
      },
    });
    open.push(w);
    expect(w.mode).toBe('poll');
    expect(w.fallbackReason).toMatch(/limit of inotify watches is reached \(fs\.inotify\.max_user_watches = \d+\)/);
    expect(w.fallbackReason).toMatch(/sudo sysctl/);
    expect(w.fallbackReason).toMatch(/rescan every 0 s|rescan every \d+ s/);
    // A rescan right away (changes may have been missed), then one every rescanMs.
    await twoSyncs;
    expect(syncs).toBeGreaterThanOrEqual(2);
  });
});
