// The sync progress the CLI prints in a pipe (plain lines): the model load, per-image embedding
// with images decoded ahead of the batches, and an embed phase that embedded nothing.
import { describe, expect, it } from 'vitest';
import type { SyncProgress } from '@pixsearch/core/engine';
import type { Output } from '../src/output.js';
import { ProgressDisplay, syncProgressHandler } from '../src/progress.js';

function plainOutput(lines: string[]): Output {
  return { interactive: false, info: (t: string) => lines.push(t), ce: {} } as unknown as Output;
}

describe('sync progress lines', () => {
  it('shows the model load, then images embedded with rate and ETA; says when nothing was embedded', () => {
    const lines: string[] = [];
    const handler = syncProgressHandler(new ProgressDisplay(plainOutput(lines), 0));
    const ev = (p: Partial<SyncProgress> & Pick<SyncProgress, 'phase'>): void => handler({ done: 0, total: undefined, rate: 0, etaSeconds: undefined, ...p });
    ev({ phase: 'load-model' });
    ev({ phase: 'embed', done: 0, total: 100, decoded: 6, embedded: 0, rate: 3, etaSeconds: 33 });
    ev({ phase: 'embed', done: 16, total: 100, decoded: 30, embedded: 16, rate: 12.5, etaSeconds: 6.7 });
    ev({ phase: 'done', done: 100, total: 100 });
    expect(lines[0]).toMatch(/^Loading model: 0/);
    expect(lines).toContain('Embedding: 0/100 (0%), 3.0 images/s, ETA 33s');
    expect(lines).toContain('Embedding: 16/100 (16%), 12.5 images/s, ETA 7s');

    const none: string[] = [];
    const h2 = syncProgressHandler(new ProgressDisplay(plainOutput(none), 0));
    h2({ phase: 'embed', done: 1, total: 1, decoded: 0, embedded: 0, rate: 70, etaSeconds: 0 });
    h2({ phase: 'done', done: 1, total: 1, rate: 70, etaSeconds: 0 });
    expect(none.join('\n')).not.toMatch(/images\/s/);
    expect(none.join('\n')).toMatch(/^Nothing to embed/m);
  });
});
