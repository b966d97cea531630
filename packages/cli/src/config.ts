import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { TOKEN_RULE, tokenProblem } from '@pixsearch/server/token-rule';
import { UsageError } from './errors.js';
import { defaultDataDir, expandPath } from './paths.js';

/** Tower precisions, as Transformers.js v3 names them (`q8` and `quantized` are the same file). */
const DTYPES = ['fp32', 'fp16', 'int8', 'uint8', 'q8', 'quantized'] as const;
type DtypeName = (typeof DTYPES)[number];

/** Name of the config file looked up in the current directory. */
export const CONFIG_FILE = 'pixsearch.config.json';

/** Every setting the CLI understands, after merging flags > environment > config file > defaults. */
export interface Settings {
  /** Where the catalog and index live (absolute). */
  dataDir: string;
  /** Model bundle folder (absolute) or hub id; undefined = the catalog's model, else the default. */
  model: string | undefined;
  /** A registered backend name; checked against the registry when the engine opens. */
  backend: string | undefined;
  backendParams: Record<string, number | string> | undefined;
  batchSize: number | undefined;
  threads: number | undefined;
  device: 'cpu' | 'cuda' | undefined;
  /** Tower precisions (Transformers.js v3 dtype names); undefined = the library's, else the default. */
  visionDtype: DtypeName | undefined;
  textDtype: DtypeName | undefined;
  /** Image preprocessing; undefined = scaled. */
  preprocess: 'scaled' | 'exact' | undefined;
  /** Model download cache (absolute); undefined = the embedder's default. */
  cacheDir: string | undefined;
  /** Image folders (absolute) from the config file or `PIXSEARCH_FOLDERS`. */
  folders: string[] | undefined;
  ignore: string[] | undefined;
  k: number | undefined;
  threshold: number | undefined;
  /** undefined = the server's default (8765). */
  port: number | undefined;
  /** undefined = the server's default (127.0.0.1). */
  host: string | undefined;
  token: string | undefined;
}

/** Where each setting came from (for `status --verbose` and error messages). */
export type SettingSource = 'flag' | 'env' | 'config' | 'default';

interface Field {
  /** Command-line flag (as written by the user). */
  flag?: string;
  /** cac's camel-cased option key. */
  key?: string;
  env?: string;
  /** What a valid value looks like, for error messages. */
  expect: string;
  /**
   * Accepts a typed value (from the JSON file, or parsed from a string). Plain predicates, not
   * zod: every CLI run resolves its settings, and loading zod costs ~55 ms of CPU (a warm
   * `pixsearch search` against a running server must start in well under 200 ms).
   */
  valid: (v: unknown) => boolean;
  /** Parses a string from the command line or the environment. */
  parse: (s: string) => unknown;
  /** Value is a filesystem path: `~` expanded, relative paths resolved (against the config file's folder for the file). */
  kind?: 'path' | 'paths' | 'model';
  /** A secret: error messages say what is wrong with it (this phrase), never its value. */
  secret?: (s: string) => string | undefined;
}

const num = (s: string): unknown => {
  const t = s.trim();
  if (t === '') return s;
  const n = Number(t);
  return Number.isFinite(n) ? n : s;
};
const str = (s: string): unknown => s;
const list = (s: string): unknown =>
  s
    .split(process.platform === 'win32' ? ';' : ':')
    .map((x) => x.trim())
    .filter((x) => x !== '');

const int =
  (min: number, max: number) =>
  (v: unknown): boolean =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const text = (v: unknown): boolean => typeof v === 'string' && v.length > 0;
const oneOf =
  (values: readonly string[]) =>
  (v: unknown): boolean =>
    typeof v === 'string' && values.includes(v);
const texts = (v: unknown): boolean => Array.isArray(v) && v.every(text);
const record = (v: unknown): boolean =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  Object.entries(v).every(([k, x]) => k.length > 0 && ((typeof x === 'number' && Number.isFinite(x)) || typeof x === 'string'));

const FIELDS = {
  dataDir: { flag: '--data-dir', key: 'dataDir', env: 'PIXSEARCH_DATA_DIR', expect: 'a folder path', valid: text, parse: str, kind: 'path' },
  model: { flag: '--model', key: 'model', env: 'PIXSEARCH_MODEL', expect: 'a model folder or hub id', valid: text, parse: str, kind: 'model' },
  backend: {
    flag: '--backend',
    key: 'backend',
    env: 'PIXSEARCH_BACKEND',
    expect: 'a backend name (pixsearch backends lists them)',
    valid: (v) => typeof v === 'string' && /^[a-z][a-z0-9-]{0,39}$/.test(v),
    parse: str,
  },
  backendParams: {
    flag: '--param',
    key: 'param',
    expect: 'key=value pairs such as M=32 or nlist=1024',
    valid: record,
    parse: str,
  },
  batchSize: { flag: '--batch-size', key: 'batchSize', env: 'PIXSEARCH_BATCH_SIZE', expect: 'an integer from 1 to 1024', valid: int(1, 1024), parse: num },
  threads: { flag: '--threads', key: 'threads', env: 'PIXSEARCH_THREADS', expect: 'an integer from 1 to 256', valid: int(1, 256), parse: num },
  device: { flag: '--device', key: 'device', env: 'PIXSEARCH_DEVICE', expect: 'cpu or cuda', valid: oneOf(['cpu', 'cuda']), parse: str },
  visionDtype: { flag: '--vision-dtype', key: 'visionDtype', env: 'PIXSEARCH_VISION_DTYPE', expect: `one of ${DTYPES.join(', ')}`, valid: oneOf(DTYPES), parse: str },
  textDtype: { flag: '--text-dtype', key: 'textDtype', env: 'PIXSEARCH_TEXT_DTYPE', expect: `one of ${DTYPES.join(', ')}`, valid: oneOf(DTYPES), parse: str },
  preprocess: { flag: '--preprocess', key: 'preprocess', env: 'PIXSEARCH_PREPROCESS', expect: 'scaled or exact', valid: oneOf(['scaled', 'exact']), parse: str },
  cacheDir: { flag: '--cache-dir', key: 'cacheDir', env: 'PIXSEARCH_CACHE', expect: 'a folder path', valid: text, parse: str, kind: 'path' },
  folders: { env: 'PIXSEARCH_FOLDERS', expect: 'a list of folder paths', valid: texts, parse: list, kind: 'paths' },
  ignore: { flag: '--ignore', key: 'ignore', expect: 'a list of glob patterns', valid: texts, parse: (s) => [s] },
  k: { flag: '-k', key: 'k', env: 'PIXSEARCH_K', expect: 'an integer from 1 to 1000', valid: int(1, 1000), parse: num },
  threshold: { flag: '--threshold', key: 'threshold', env: 'PIXSEARCH_THRESHOLD', expect: 'a number from -1 to 1', valid: (v) => typeof v === 'number' && Number.isFinite(v) && v >= -1 && v <= 1, parse: num },
  port: { flag: '--port', key: 'port', env: 'PIXSEARCH_PORT', expect: 'a port number from 0 to 65535', valid: int(0, 65535), parse: num },
  host: { flag: '--host', key: 'host', env: 'PIXSEARCH_HOST', expect: 'a host name or IP address', valid: text, parse: str },
  // The server's own rule (one rule, checked here before any sync and again by the server).
  token: {
    flag: '--token',
    key: 'token',
    env: 'PIXSEARCH_TOKEN',
    expect: TOKEN_RULE,
    valid: (v) => typeof v === 'string' && tokenProblem(v) === undefined,
    parse: str,
    secret: tokenProblem,
  },
} satisfies Record<keyof Settings, Field>;

type Key = keyof typeof FIELDS;
const KEYS = Object.keys(FIELDS) as Key[];

const DEFAULTS: Partial<Settings> = {};

/** Raw option values as cac hands them over (value options are declared with `type: [String]`). */
export type RawFlags = Record<string, unknown>;

/** Last value of an option given once or several times; `undefined` when absent. */
export function lastValue(v: unknown): unknown {
  return Array.isArray(v) ? v[v.length - 1] : v;
}

/** Returns the string value of a value-taking flag, or throws a usage error when it was given without a value. */
export function flagString(flags: RawFlags, key: string, flag: string, allowEmpty = false): string | undefined {
  const raw = flags[key];
  if (raw === undefined) return undefined;
  const v = lastValue(raw);
  if (v === true || v === false || (v === '' && !allowEmpty) || v === undefined) {
    throw new UsageError(`option ${flag} needs a value`, flag === '--threshold' ? 'e.g. --threshold 0.2 (a negative value: --threshold=-0.2)' : `write ${flag} <value>`);
  }
  return String(v);
}

function describe(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
}

function validate(name: Key, value: unknown, where: string): unknown {
  const f: Field = FIELDS[name];
  if (f.secret) {
    const problem = typeof value === 'string' ? f.secret(value) : `it is a ${value === null ? 'null' : typeof value}, not a string`;
    if (problem) throw new UsageError(`${where}: ${problem}; expected ${f.expect}`);
  }
  if (!f.valid(value)) throw new UsageError(`${where}: expected ${f.expect}, got ${describe(value)}`);
  return value;
}

function resolveKind(f: Field, value: unknown, base: string): unknown {
  if (f.kind === 'path' && typeof value === 'string') return expandPath(value, base);
  if (f.kind === 'paths' && Array.isArray(value)) return value.map((p: string) => expandPath(p, base));
  if (f.kind === 'model' && typeof value === 'string') {
    // A local folder when it exists (relative to `base`), else a hub id passed through unchanged.
    const local = expandPath(value, base);
    return value.startsWith('~') || value.startsWith('.') || value.startsWith('/') || existsSync(local) ? local : value;
  }
  return value;
}

/** Close-enough key names, for "did you mean" hints. */
function suggest(key: string): string | undefined {
  const dist = (a: string, b: string): number => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0]![j] = j;
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++)
        d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    return d[a.length]![b.length]!;
  };
  let best: string | undefined;
  let bestD = 3;
  for (const k of KEYS) {
    const dd = dist(key.toLowerCase(), k.toLowerCase());
    if (dd < bestD) [best, bestD] = [k, dd];
  }
  return best;
}

/** Reads and validates a config file. Paths inside are relative to the file's folder. */
export function readConfigFile(file: string): Partial<Settings> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read config file ${file}: ${code === 'ENOENT' ? 'no such file' : String(cause)}`, 'check the --config path or PIXSEARCH_CONFIG');
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw new UsageError(`${file} is not valid JSON: ${(cause as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new UsageError(`${file} must hold a JSON object, e.g. { "dataDir": "~/pixsearch-data" }`);
  }
  const out: Record<string, unknown> = {};
  const base = dirname(file);
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    if (key === '$schema') continue;
    if (!Object.hasOwn(FIELDS, key)) {
      const close = suggest(key);
      throw new UsageError(
        `${file}: unknown key "${key}"${close ? ` (did you mean "${close}"?)` : ''}`,
        `valid keys: ${KEYS.join(', ')}`,
      );
    }
    const name = key as Key;
    out[name] = resolveKind(FIELDS[name], validate(name, value, `${file}: "${key}"`), base);
  }
  return out as Partial<Settings>;
}

function parseParams(values: string[]): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const v of values) {
    for (const pair of v.split(',')) {
      const m = /^\s*([A-Za-z][\w]*)\s*=\s*(\S+)\s*$/.exec(pair);
      if (!m) throw new UsageError(`--param: expected key=value such as M=32, got ${JSON.stringify(pair)}`);
      const n = Number(m[2]);
      out[m[1]!] = Number.isFinite(n) ? n : m[2]!;
    }
  }
  return out;
}

export interface ResolvedSettings {
  settings: Settings;
  sources: Record<keyof Settings, SettingSource>;
  /** The config file read, if any. */
  configFile: string | undefined;
}

/**
 * Merges settings with precedence flags > `PIXSEARCH_*` environment > config file > defaults.
 * The config file is `--config <file>`, else `PIXSEARCH_CONFIG`, else `./pixsearch.config.json` when present.
 * Throws {@link UsageError} naming the flag, variable or key that holds a bad value.
 */
export function resolveSettings(flags: RawFlags, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): ResolvedSettings {
  const explicit = flagString(flags, 'config', '--config') ?? (env.PIXSEARCH_CONFIG || undefined);
  let configFile: string | undefined;
  if (explicit !== undefined) configFile = expandPath(explicit, cwd);
  else if (existsSync(resolve(cwd, CONFIG_FILE))) configFile = resolve(cwd, CONFIG_FILE);
  const fromFile = configFile ? readConfigFile(configFile) : {};

  const merged: Record<string, unknown> = {};
  const sources = {} as Record<keyof Settings, SettingSource>;
  for (const name of KEYS) {
    const f: Field = FIELDS[name];
    let value: unknown;
    let source: SettingSource = 'default';
    if (f.key !== undefined && flags[f.key] !== undefined) {
      if (name === 'ignore') {
        const raw = flags[f.key];
        value = (Array.isArray(raw) ? raw : [raw]).map(String);
      } else if (name === 'backendParams') {
        const raw = flags[f.key];
        value = parseParams((Array.isArray(raw) ? raw : [raw]).map(String));
      } else {
        const s = flagString(flags, f.key, f.flag!, f.secret !== undefined)!;
        value = resolveKind(f, validate(name, f.parse(s), f.flag!), cwd);
      }
      source = 'flag';
    } else if (f.env !== undefined && env[f.env] !== undefined && env[f.env] !== '') {
      value = resolveKind(f, validate(name, f.parse(env[f.env]!), f.env), cwd);
      source = 'env';
    } else if (fromFile[name] !== undefined) {
      value = fromFile[name];
      source = 'config';
    } else {
      value = DEFAULTS[name];
    }
    merged[name] = value;
    sources[name] = source;
  }
  merged.dataDir ??= defaultDataDir(env);
  return { settings: merged as unknown as Settings, sources, configFile };
}

/** Number option of a single command (not a shared setting), validated like the shared ones. */
export function numberFlag(
  flags: RawFlags,
  key: string,
  flag: string,
  range: { min: number; max: number; integer?: boolean },
): number | undefined {
  const s = flagString(flags, key, flag);
  if (s === undefined) return undefined;
  const n = Number(s.trim());
  const ok = s.trim() !== '' && Number.isFinite(n) && n >= range.min && n <= range.max && (!range.integer || Number.isInteger(n));
  if (!ok) {
    throw new UsageError(`${flag}: expected ${range.integer ? 'an integer' : 'a number'} from ${range.min} to ${range.max}, got ${JSON.stringify(s)}`);
  }
  return n;
}
