import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '@pixsearch/core';
import { readBvecs, readFvecs, readIvecs, writeFvecs, writeIvecs } from '../src/datasets/vecs.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pixsearch-vecs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fvecs / ivecs / bvecs', () => {
  it('round-trips float and int rows, and caps rows on request', () => {
    const d = 7;
    const data = Float32Array.from({ length: 5 * d }, (_, i) => Math.sin(i) * 3.5);
    const f = path.join(dir, 'a.fvecs');
    writeFvecs(f, data, d);
    const back = readFvecs(f);
    expect(back.rows).toBe(5);
    expect(back.dimension).toBe(d);
    expect(Array.from(back.data)).toEqual(Array.from(data));
    expect(readFvecs(f, 2).data).toEqual(data.subarray(0, 2 * d));

    const ids = Int32Array.from({ length: 3 * 4 }, (_, i) => i * 1000 - 5);
    const g = path.join(dir, 'a.ivecs');
    writeIvecs(g, ids, 4);
    const got = readIvecs(g);
    expect(got.rows).toBe(3);
    expect(Array.from(got.data)).toEqual(Array.from(ids));
  });

  it('reads the TEXMEX byte layout: int32 dimension then components, per row', () => {
    const buf = Buffer.alloc(2 * (4 + 3));
    for (let r = 0; r < 2; r++) {
      buf.writeInt32LE(3, r * 7);
      for (let j = 0; j < 3; j++) buf[r * 7 + 4 + j] = r * 10 + j;
    }
    const f = path.join(dir, 'b.bvecs');
    writeFileSync(f, buf);
    const b = readBvecs(f);
    expect(Array.from(b.data)).toEqual([0, 1, 2, 10, 11, 12]);
  });

  it('rejects truncated, empty and inconsistent files with a typed error', () => {
    const d = 4;
    const f = path.join(dir, 'c.fvecs');
    writeFvecs(f, new Float32Array(3 * d).fill(1), d);
    const full = readFileSync(f);
    writeFileSync(f, full.subarray(0, full.length - 2));
    expect(() => readFvecs(f)).toThrow(InvalidArgumentError);
    writeFileSync(f, Buffer.alloc(0));
    expect(() => readFvecs(f)).toThrow(/empty/);
    const bad = Buffer.from(full);
    bad.writeInt32LE(5, 20); // second row claims dimension 5
    writeFileSync(f, bad);
    expect(() => readFvecs(f)).toThrow(/row 1 has dimension 5/);
  });
});
