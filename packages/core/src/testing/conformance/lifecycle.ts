// Conformance topic: lifecycle — close() is idempotent, awaits queued work, and later calls fail.
import { expect } from 'vitest';
import { ClosedError } from '../../errors.js';
import type { Suite } from './suite.js';

export function lifecycleCases(s: Suite): void {
  const { dim } = s;
  s.test('close', 'close() is idempotent and later calls throw ClosedError', async () => {
    const idx = s.track(await s.options.create({ dimension: dim, metric: 'cosine' }));
    const v = s.small().base.subarray(0, dim);
    await idx.add([1], v);
    // Work queued before close() settles before close() resolves (it may fail with ClosedError).
    const pending = idx.search(v, 1).then(
      () => 'done',
      (err: unknown) => (err instanceof ClosedError ? 'closed' : err),
    );
    await idx.close();
    expect(['done', 'closed']).toContain(await pending);
    await idx.close();
    await expect(idx.search(v, 1)).rejects.toBeInstanceOf(ClosedError);
    await expect(idx.add([2], v)).rejects.toBeInstanceOf(ClosedError);
    if (idx.capabilities.remove) await expect(idx.remove([1])).rejects.toBeInstanceOf(ClosedError);
  });
}
