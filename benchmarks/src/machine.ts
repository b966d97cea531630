/** Describes the machine and library versions for the report. */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MachineInfo } from './results.js';

const require = createRequire(import.meta.url);

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Version from node_modules/<name>/package.json seen from this package (exports maps hide it from require). */
function packageVersion(name: string): string {
  for (let dir = packageDir; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'node_modules', name, 'package.json');
    if (existsSync(file)) {
      try {
        return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
      } catch {
        return 'unknown';
      }
    }
    if (path.dirname(dir) === dir) return 'unknown';
  }
}

function cpuFlags(): string[] {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const line = /^flags\s*:\s*(.*)$/m.exec(info)?.[1] ?? '';
    const flags = new Set(line.split(/\s+/));
    return ['sse4_2', 'avx', 'avx2', 'fma', 'f16c', 'avx512f', 'avx512_vnni'].filter((f) => flags.has(f));
  } catch {
    return [];
  }
}

/** How the faiss-node binding was built: against which FAISS, with which SIMD level. */
export function faissBuild(): string {
  try {
    const dir = path.dirname(require.resolve('faiss-node/package.json'));
    const cache = path.join(dir, 'build/CMakeCache.txt');
    if (existsSync(cache)) {
      const text = readFileSync(cache, 'utf8');
      const faissDir = /^faiss_DIR:PATH=(.*)$/m.exec(text)?.[1];
      if (faissDir && faissDir.startsWith('/usr/lib')) {
        const deb = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'libfaiss-dev'], { encoding: 'utf8' });
        const version = deb.status === 0 ? deb.stdout.trim() : 'unknown';
        return `faiss-node built against the system FAISS (Debian libfaiss-dev ${version}, static libfaiss.a): Debian builds FAISS generic — its SIMD distance kernels are SSE only, no AVX2 (even where the CPU has it); batched search uses OpenBLAS`;
      }
      return `faiss-node built from source against ${faissDir ?? 'a bundled FAISS'}`;
    }
    return 'faiss-node prebuilt binary';
  } catch {
    return 'faiss-node not installed';
  }
}

/** The CPU's model name: lscpu's `Model name` (what a report should quote), else what `os.cpus()` says. */
export function cpuModel(): string {
  const fallback = os.cpus()[0]?.model.trim() || 'unknown';
  try {
    return /Model name:\s*(.*)/.exec(execFileSync('lscpu', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))?.[1]?.trim() || fallback;
  } catch {
    return fallback; // no lscpu
  }
}

/** Machine facts for the report header. */
export function machineInfo(): MachineInfo {
  return {
    hostname: os.hostname(),
    cpu: cpuModel(),
    cores: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    cpuFlags: cpuFlags(),
    faissBuild: faissBuild(),
    loadAverage: os.loadavg().map((v) => Math.round(v * 100) / 100),
  };
}

/** Versions of the libraries measured. */
export function libraryVersions(): Record<string, string> {
  return {
    'faiss-node': packageVersion('faiss-node'),
    'hnswlib-node': packageVersion('hnswlib-node'),
    usearch: packageVersion('usearch'),
    h5wasm: packageVersion('h5wasm'),
    '@pixsearch/index-faiss': packageVersion('@pixsearch/index-faiss'),
    '@pixsearch/index-hnsw': packageVersion('@pixsearch/index-hnsw'),
  };
}
