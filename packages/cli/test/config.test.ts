import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveSettings } from '../src/config.js';
import { UsageError } from '../src/errors.js';
import { TOKEN_RULE } from '@pixsearch/server/token-rule';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pixsearch-config-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function writeConfig(obj: unknown, name = 'pixsearch.config.json'): string {
  const file = join(dir, name);
  writeFileSync(file, typeof obj === 'string' ? obj : JSON.stringify(obj));
  return file;
}

function usageMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as UsageError).message;
  }
  throw new Error('expected a UsageError');
}

describe('resolveSettings', () => {
  it('uses the XDG data dir when nothing is set', () => {
    const { settings, sources, configFile } = resolveSettings({}, { XDG_DATA_HOME: '/xdg/data' }, dir);
    expect(settings.dataDir).toBe('/xdg/data/pixsearch');
    expect(settings.host).toBeUndefined(); // the server's defaults apply
    expect(settings.port).toBeUndefined();
    expect(settings.k).toBeUndefined();
    expect(sources.dataDir).toBe('default');
    expect(configFile).toBeUndefined();
  });

  it('ignores a relative XDG_DATA_HOME, as the XDG spec says', () => {
    const { settings } = resolveSettings({}, { XDG_DATA_HOME: 'relative/dir', HOME: process.env.HOME }, dir);
    expect(settings.dataDir.endsWith(join('.local', 'share', 'pixsearch'))).toBe(true);
  });

  it('applies flags > environment > config file > defaults, per key', () => {
    writeConfig({ dataDir: 'data-from-config', k: 5, threshold: 0.3, batchSize: 8, backend: 'hnswlib' });
    const env = { PIXSEARCH_K: '7', PIXSEARCH_BATCH_SIZE: '12', PIXSEARCH_BACKEND: 'usearch' };
    const { settings, sources } = resolveSettings({ k: ['9'], backend: ['faiss-ivf'] }, env, dir);
    expect(settings.k).toBe(9); // flag beats env and config
    expect(sources.k).toBe('flag');
    expect(settings.batchSize).toBe(12); // env beats config
    expect(sources.batchSize).toBe('env');
    expect(settings.backend).toBe('faiss-ivf');
    expect(settings.threshold).toBe(0.3); // config beats default
    expect(sources.threshold).toBe('config');
    expect(settings.dataDir).toBe(join(dir, 'data-from-config')); // relative to the config file
  });

  it('takes the last value of a repeated flag', () => {
    const { settings } = resolveSettings({ k: ['3', '4'] }, {}, dir);
    expect(settings.k).toBe(4);
  });

  it('reads --config (relative to cwd) instead of ./pixsearch.config.json', () => {
    writeConfig({ k: 1 });
    mkdirSync(join(dir, 'conf'));
    writeConfig({ k: 2, folders: ['../photos', '~/x'] }, 'conf/other.json');
    const { settings, configFile } = resolveSettings({ config: ['conf/other.json'] }, { HOME: '/home/u' }, dir);
    expect(configFile).toBe(join(dir, 'conf', 'other.json'));
    expect(settings.k).toBe(2);
    expect(settings.folders?.[0]).toBe(join(dir, 'photos'));
    expect(settings.folders?.[1]?.endsWith(join('', 'x'))).toBe(true);
  });

  it('reads PIXSEARCH_CONFIG when --config is absent', () => {
    const file = writeConfig({ k: 11 }, 'env.json');
    expect(resolveSettings({}, { PIXSEARCH_CONFIG: file }, dir).settings.k).toBe(11);
  });

  it('names an unknown config key and suggests the close one', () => {
    writeConfig({ modle: 'x' });
    const msg = usageMessage(() => resolveSettings({}, {}, dir));
    expect(msg).toContain('unknown key "modle"');
    expect(msg).toContain('did you mean "model"');
  });

  it('names the key and the expected type of a bad config value', () => {
    writeConfig({ batchSize: 'big' });
    expect(usageMessage(() => resolveSettings({}, {}, dir))).toMatch(/"batchSize": expected an integer from 1 to 1024, got "big"/);
    writeConfig({ backend: 'Annoy DB' });
    expect(usageMessage(() => resolveSettings({}, {}, dir))).toMatch(/"backend": expected a backend name/);
  });

  it('rejects a config file that is not JSON, or not an object', () => {
    writeConfig('{ "k": 3,, }');
    expect(usageMessage(() => resolveSettings({}, {}, dir))).toContain('is not valid JSON');
    writeConfig('[1,2]');
    expect(usageMessage(() => resolveSettings({}, {}, dir))).toContain('must hold a JSON object');
  });

  it('says when --config points nowhere', () => {
    expect(usageMessage(() => resolveSettings({ config: ['nope.json'] }, {}, dir))).toContain('no such file');
  });

  it('names the environment variable holding a bad value', () => {
    expect(usageMessage(() => resolveSettings({}, { PIXSEARCH_THREADS: 'many' }, dir))).toMatch(/^PIXSEARCH_THREADS: expected an integer/);
    expect(usageMessage(() => resolveSettings({}, { PIXSEARCH_DEVICE: 'tpu' }, dir))).toMatch(/^PIXSEARCH_DEVICE: expected cpu or cuda/);
  });

  it('names the flag holding a bad or missing value', () => {
    expect(usageMessage(() => resolveSettings({ port: ['70000'] }, {}, dir))).toMatch(/^--port: expected a port number/);
    expect(usageMessage(() => resolveSettings({ threshold: [true] }, {}, dir))).toBe('option --threshold needs a value');
    expect(usageMessage(() => resolveSettings({ param: ['M'] }, {}, dir))).toContain('--param: expected key=value');
  });

  it('applies the server token rule to --token, PIXSEARCH_TOKEN and the config file, never echoing the token', () => {
    const env = { HOME: dir };
    const bad: [string, RegExp][] = [
      ['', /it is empty/],
      [' '.repeat(16), /it is all whitespace/],
      ['abcdefgh', /it has only 8 characters/],
      ['abcdefgh ijklmnopq', /it contains whitespace/],
      ['abcdefghijklmnop\u00e9', /it contains control or non-ASCII/],
    ];
    for (const [token, why] of bad) {
      const fromFlag = usageMessage(() => resolveSettings({ token: [token] }, env, dir));
      expect(fromFlag).toMatch(why);
      expect(fromFlag).toContain(`--token: `);
      expect(fromFlag).toContain(TOKEN_RULE);
      if (token.trim() !== '') expect(fromFlag).not.toContain(token);
      if (token !== '') expect(usageMessage(() => resolveSettings({}, { ...env, PIXSEARCH_TOKEN: token }, dir))).toMatch(new RegExp(`PIXSEARCH_TOKEN: ${why.source}`));
      writeConfig({ token });
      expect(usageMessage(() => resolveSettings({}, env, dir))).toMatch(why);
      rmSync(join(dir, 'pixsearch.config.json'));
    }
    expect(resolveSettings({ token: ['0000123456789012'] }, env, dir).settings.token).toBe('0000123456789012');
  });

  it('parses backend parameters and a model folder that exists locally', () => {
    mkdirSync(join(dir, 'models', 'tiny'), { recursive: true });
    const { settings } = resolveSettings({ param: ['M=32', 'metricHint=fast,efConstruction=100'], model: ['models/tiny'] }, {}, dir);
    expect(settings.backendParams).toEqual({ M: 32, metricHint: 'fast', efConstruction: 100 });
    expect(settings.model).toBe(join(dir, 'models', 'tiny'));
    // A hub id that is not a local folder passes through unchanged.
    expect(resolveSettings({ model: ['Xenova/clip-vit-base-patch32'] }, {}, dir).settings.model).toBe('Xenova/clip-vit-base-patch32');
  });
});
