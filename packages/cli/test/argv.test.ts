import { describe, expect, it } from 'vitest';
import { MINUS_MARK, VALUE_MARK, markArgv, unmark } from '../src/argv.js';

describe('markArgv', () => {
  it('marks values so the option parser cannot turn them into numbers, and unmark restores them', () => {
    const argv = ['serve', '--token', '', '--port=0', '--data-dir', '007', 'search', '-', '-k', '5', '--', '42'];
    const marked = markArgv(argv, ['serve', 'search']);
    expect(marked).toEqual(['serve', '--token', VALUE_MARK, `--port=${VALUE_MARK}0`, '--data-dir', `${VALUE_MARK}007`, `${VALUE_MARK}search`, MINUS_MARK, '-k', `${VALUE_MARK}5`, '--', '42']);
    expect(marked.filter((a) => !a.startsWith('--port')).map(unmark)).toEqual(argv.filter((a) => !a.startsWith('--port')).map((a) => (a === '-' ? MINUS_MARK : a)));
    expect(unmark([`${VALUE_MARK}1`, 2, true])).toEqual(['1', 2, true]);
  });
});
