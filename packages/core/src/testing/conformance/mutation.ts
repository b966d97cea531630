// Conformance topic: changing an index — upserts and removals.
import { expect } from 'vitest';
import { contains, expectSorted, requires, type Suite } from './suite.js';

export function mutationCases(s: Suite): void {
  const { dim } = s;

  s.test('upsert', 'adding an existing id replaces its vector (upsert)', async () => {
    const idx = await s.make();
    const { base } = s.small();
    await idx.add([1, 2, 3], base.subarray(0, 3 * dim));
    await idx.add([2], base.subarray(10 * dim, 11 * dim));
    expect(idx.size).toBe(3);
    const [old] = await idx.search(base.subarray(dim, 2 * dim), 3);
    // The old vector of id 2 is gone: querying it must not find id 2 at score ≈ 1.
    const pos = old!.ids.indexOf(2);
    if (pos >= 0) expect(old!.scores[pos]!).toBeLessThan(0.999);
    const [fresh] = await idx.search(base.subarray(10 * dim, 11 * dim), 1);
    expect(fresh!.ids).toEqual([2]);
    expect(fresh!.scores[0]).toBeCloseTo(1, 2);
    const all = await idx.search(base.subarray(0, dim), 10);
    expect(new Set(all[0]!.ids).size).toBe(all[0]!.ids.length);
  });

  s.test(
    'remove',
    'removed ids are never returned; unknown ids are ignored',
    async () => {
      const idx = await s.make();
      const { base } = s.small();
      const ids = Array.from({ length: 100 }, (_, i) => i * 3);
      await idx.add(ids, base.subarray(0, 100 * dim));
      const removed = await idx.remove([0, 3, 6, 999_999]);
      expect(removed).toBe(3);
      expect(idx.size).toBe(97);
      expect(await contains(idx, 3)).toBe(false);
      expect(await contains(idx, 9)).toBe(true);
      const res = await idx.search(base.subarray(0, 3 * dim), 100);
      for (const r of res) {
        expect(r.ids).toHaveLength(97);
        for (const gone of [0, 3, 6]) expect(r.ids).not.toContain(gone);
        expectSorted(r);
      }
      // Re-adding a removed id works.
      await idx.add([3], base.subarray(dim, 2 * dim));
      const [again] = await idx.search(base.subarray(dim, 2 * dim), 1);
      expect(again!.ids).toEqual([3]);
      expect(await idx.remove(ids)).toBe(98);
      expect(idx.size).toBe(0);
      const [none] = await idx.search(base.subarray(0, dim), 5);
      expect(none!.ids).toEqual([]);
    },
    { requires: requires.remove },
  );
}
