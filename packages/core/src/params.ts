import { InvalidArgumentError } from './errors.js';
import type { ParamSpec, ParamValue, SearchParams } from './vector-index.js';

/**
 * Checks `params` against a backend's declared search parameters: unknown keys, wrong types and
 * out-of-range values throw `InvalidArgumentError` naming the backend and what it accepts. Numeric
 * strings (from CLI flags or query strings) are converted. Returns the normalised parameters.
 */
export function checkSearchParams(backend: string, specs: readonly ParamSpec[], params: SearchParams | undefined): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  if (params === undefined || params === null) return out;
  if (typeof params !== 'object') throw new InvalidArgumentError(`search parameters must be an object, got ${typeof params}`);
  for (const [key, raw] of Object.entries(params)) {
    if (raw === undefined) continue;
    const spec = specs.find((s) => s.name === key);
    if (!spec) {
      const known = specs.length > 0 ? `it accepts ${specs.map((s) => s.name).join(', ')}` : 'it takes none';
      throw new InvalidArgumentError(`the ${backend} backend has no search parameter "${key}"; ${known}`);
    }
    out[key] = checkParam(spec, raw, `search parameter ${key} of ${backend}`);
  }
  return out;
}

/** Validates one value against its spec (numeric strings accepted for numbers); returns it normalised. */
export function checkParam(spec: ParamSpec, raw: ParamValue, what: string = spec.name): ParamValue {
  const bounds = `${spec.min ?? '-∞'}..${spec.max ?? '∞'}`;
  const extra = spec.values && spec.values.length > 0 ? ` or one of ${spec.values.join(', ')}` : '';
  switch (spec.type) {
    case 'integer':
    case 'number': {
      if (typeof raw === 'string' && spec.values?.includes(raw)) return raw;
      const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
      const ok = typeof n === 'number' && Number.isFinite(n) && (spec.type === 'number' || Number.isInteger(n)) && n >= (spec.min ?? -Infinity) && n <= (spec.max ?? Infinity);
      if (!ok) throw new InvalidArgumentError(`${what} must be ${spec.type === 'integer' ? 'an integer' : 'a number'} in ${bounds}${extra}, got ${JSON.stringify(raw)}`);
      return n;
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw new InvalidArgumentError(`${what} must be true or false, got ${JSON.stringify(raw)}`);
    }
    case 'string': {
      if (typeof raw !== 'string' || (spec.values && !spec.values.includes(raw))) {
        throw new InvalidArgumentError(`${what} must be ${spec.values ? `one of ${spec.values.join(', ')}` : 'a string'}, got ${JSON.stringify(raw)}`);
      }
      return raw;
    }
  }
}

/** Key names that must never hold a value that gets saved. */
const SECRET_KEY = /pass(word)?|secret|token|credential|api[-_]?key|dsn|conn(ection)?([-_]?str(ing)?)?$|^url$/i;
/** A URL carrying a user name and password (`scheme://user:pass@host`). */
const URL_WITH_CREDENTIALS = /^[a-z][a-z0-9+.-]*:\/\/[^/\s@]*:[^/\s@]*@/i;

/**
 * Build parameters are saved (manifests, the catalog, the index pointer), so they must never hold
 * connection settings or secrets: throws `InvalidArgumentError` for a key that names one or a
 * value that looks like a URL with credentials. Connection strings come from the environment
 * (a remote backend's `connectionEnv`), and only the variable's name is ever saved.
 */
export function checkNoSecrets(backend: string, params: Readonly<Record<string, unknown>>): void {
  for (const [key, value] of Object.entries(params)) {
    if (SECRET_KEY.test(key) || (typeof value === 'string' && URL_WITH_CREDENTIALS.test(value))) {
      throw new InvalidArgumentError(
        `parameter "${key}" of the ${backend} backend looks like a connection setting or secret; parameters are saved to disk, so pass the connection in an environment variable instead`,
      );
    }
  }
}

/** One line per parameter, e.g. `nprobe (integer 1..65536, default auto): lists probed`. */
export function describeParams(specs: readonly ParamSpec[]): string[] {
  return specs.map((s) => {
    const range = s.type === 'integer' || s.type === 'number' ? ` ${s.min ?? ''}..${s.max ?? ''}` : s.values ? ` ${s.values.join('|')}` : '';
    const extra = (s.type === 'integer' || s.type === 'number') && s.values ? ` or ${s.values.join('|')}` : '';
    const def = s.default !== undefined ? `, default ${String(s.default)}` : '';
    return `${s.name} (${s.type}${range}${extra}${def}): ${s.description}`;
  });
}
