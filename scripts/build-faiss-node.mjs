#!/usr/bin/env node
// Makes sure the faiss-node native binding is present and loads.
//
// pnpm does not run faiss-node's own install script (see pnpm-workspace.yaml): it downloads a
// prebuilt binary and otherwise clones FAISS from GitHub, and either can fail. This script:
//   1. does nothing when the binding already loads;
//   2. otherwise tries the prebuilt binary (prebuild-install, as faiss-node's script does);
//   3. otherwise builds the binding against the system FAISS (Debian/Ubuntu: libfaiss-dev),
//      found through its CMake config. FAISS 1.7.3 spells `faiss::idx_t` as
//      `faiss::Index::idx_t`, so a forced-include compatibility header supplies the alias
//      without editing the dependency's sources.
// Set PIXSEARCH_FAISS_FROM_SOURCE=1 to skip step 2.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (msg) => console.log(`[faiss-node] ${msg}`);

function faissNodeDir() {
  const req = createRequire(path.join(root, 'packages/index-faiss/package.json'));
  try {
    return path.dirname(req.resolve('faiss-node/package.json'));
  } catch {
    return undefined;
  }
}

function loads(dir) {
  const probe = `const f = require(${JSON.stringify(path.join(dir, 'lib/index.js'))});
    const i = new f.IndexFlatIP(2); i.add([1, 0, 0, 1]); if (i.ntotal() !== 2) process.exit(3);`;
  const r = spawnSync(process.execPath, ['-e', probe], { stdio: 'pipe', timeout: 60_000 });
  return r.status === 0;
}

function run(cmd, args, opts = {}) {
  log(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  return r.status === 0;
}

function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'pipe' }).status === 0;
}

function findFaissCmakeDir() {
  const candidates = [];
  for (const base of ['/usr/lib', '/usr/local/lib', '/usr/lib64', '/usr/local/lib64']) {
    candidates.push(path.join(base, 'cmake/faiss'));
    if (existsSync(base)) {
      for (const sub of readdirSync(base)) candidates.push(path.join(base, sub, 'cmake/faiss'));
    }
  }
  if (process.env.CONDA_PREFIX) candidates.push(path.join(process.env.CONDA_PREFIX, 'lib/cmake/faiss'));
  return candidates.find((c) => existsSync(path.join(c, 'faiss-config.cmake')));
}

function buildFromSource(dir) {
  const missing = [];
  if (!which('cmake')) missing.push('cmake');
  if (!which('c++')) missing.push('g++');
  if (!which('patchelf')) missing.push('patchelf');
  const faissCmake = findFaissCmakeDir();
  if (!faissCmake) missing.push('libfaiss-dev');
  if (!existsSync('/usr/lib/x86_64-linux-gnu/libopenblas.so.0') && !existsSync('/usr/lib/aarch64-linux-gnu/libopenblas.so.0')) {
    missing.push('libopenblas-dev');
  }
  if (missing.length > 0) {
    console.error(
      `[faiss-node] cannot build the FAISS binding: missing ${missing.join(', ')}.\n` +
        `[faiss-node] install them (Debian/Ubuntu: sudo apt-get install -y ${missing.join(' ')}) and run pnpm install again,\n` +
        `[faiss-node] or run scripts/setup.sh, which installs them when run as root.`,
    );
    return false;
  }

  const nodeInclude = path.join(path.dirname(path.dirname(process.execPath)), 'include/node');
  const depReq = createRequire(path.join(dir, 'package.json'));
  const addonApi = path.dirname(depReq.resolve('node-addon-api/package.json'));
  if (!existsSync(path.join(nodeInclude, 'node_api.h'))) {
    console.error(`[faiss-node] Node.js headers not found at ${nodeInclude}; install Node.js with its headers.`);
    return false;
  }

  // FAISS from the system, in place of the deps/faiss checkout that faiss-node's CMakeLists expects.
  const shimDir = path.join(dir, 'deps/faiss');
  mkdirSync(shimDir, { recursive: true });
  writeFileSync(
    path.join(shimDir, 'CMakeLists.txt'),
    [
      '# Written by pixsearch scripts/build-faiss-node.mjs: use the system FAISS.',
      'find_package(OpenMP REQUIRED)',
      `find_package(faiss REQUIRED CONFIG PATHS "${faissCmake}" NO_DEFAULT_PATH)`,
      'set_target_properties(faiss PROPERTIES IMPORTED_GLOBAL TRUE)',
      '',
    ].join('\n'),
  );
  const compat = path.join(dir, 'deps/faiss-idx-compat.h');
  writeFileSync(
    compat,
    [
      '// Written by pixsearch scripts/build-faiss-node.mjs.',
      '// FAISS < 1.7.4 declares idx_t inside faiss::Index only; faiss-node uses faiss::idx_t.',
      '#pragma once',
      '#include <faiss/Index.h>',
      '#include <faiss/MetricType.h>',
      '#if !defined(FAISS_VERSION_MAJOR) || (FAISS_VERSION_MAJOR == 1 && FAISS_VERSION_MINOR < 7) || (FAISS_VERSION_MAJOR == 1 && FAISS_VERSION_MINOR == 7 && FAISS_VERSION_PATCH < 4)',
      'namespace faiss { using idx_t = Index::idx_t; }',
      '#endif',
      '',
    ].join('\n'),
  );
  const buildDir = path.join(dir, 'build');
  const releaseDir = path.join(buildDir, 'Release');
  mkdirSync(releaseDir, { recursive: true });
  const cfg = run('cmake', [
    '-S', dir, '-B', buildDir,
    '-DCMAKE_BUILD_TYPE=Release',
    `-DCMAKE_JS_INC=${nodeInclude};${addonApi}`,
    `-DCMAKE_CXX_FLAGS=-include ${compat} -O3`,
    `-DCMAKE_LIBRARY_OUTPUT_DIRECTORY=${releaseDir}`,
    '-DCMAKE_POSITION_INDEPENDENT_CODE=ON',
    '-Wno-dev',
  ]);
  if (!cfg) return false;
  const jobs = String(Math.max(1, availableParallelism()));
  return run('cmake', ['--build', buildDir, '--config', 'Release', '-j', jobs]);
}

const dir = faissNodeDir();
if (!dir) {
  log('faiss-node is not installed yet; nothing to do.');
  process.exit(0);
}
if (loads(dir)) {
  log('binding present.');
  process.exit(0);
}
if (!process.env.PIXSEARCH_FAISS_FROM_SOURCE) {
  const depReq = createRequire(path.join(dir, 'package.json'));
  let prebuild;
  try {
    prebuild = path.join(path.dirname(depReq.resolve('prebuild-install/package.json')), 'bin.js');
  } catch {
    prebuild = undefined;
  }
  if (prebuild) {
    log('trying the prebuilt binary…');
    run(process.execPath, [prebuild, '--runtime', 'napi'], { cwd: dir, timeout: 180_000 });
    if (loads(dir)) {
      log('prebuilt binary installed.');
      process.exit(0);
    }
  }
  log('no usable prebuilt binary; building against the system FAISS.');
}
if (buildFromSource(dir) && loads(dir)) {
  log('built against the system FAISS.');
  process.exit(0);
}
console.error('[faiss-node] the FAISS binding is not available: the faiss backends will report it when used.');
process.exit(1);
