// pixsearch status
import type { EngineStats } from '@pixsearch/core/engine';
import { resolveSettings } from '../config.js';
import type { CommandContext } from '../context.js';
import { dataDirExists, openEngine } from '../engine.js';
import { EXIT } from '../errors.js';
import type { Output } from '../output.js';
import { prog } from '../paths.js';
import { printable } from '../terminal-text.js';

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

function ago(iso: string): string {
  const s = (Date.now() - Date.parse(iso)) / 1000;
  if (!Number.isFinite(s)) return '';
  if (s < 90) return 'just now';
  if (s < 5400) return `${Math.round(s / 60)} minutes ago`;
  if (s < 129600) return `${Math.round(s / 3600)} hours ago`;
  return `${Math.round(s / 86400)} days ago`;
}

function localTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function print(out: Output, st: EngineStats): void {
  const { c } = out;
  const row = (k: string, v: string): void => out.line(`${c.bold(k.padEnd(10))} ${v}`);
  row('Data dir', `${printable(st.dataDir)}  ${c.dim(`(${formatBytes(st.dataDirBytes)})`)}`);
  row('Folders', st.roots.length > 0 ? st.roots.map(printable).join('\n           ') : c.dim('none'));
  row('Model', `${st.model}  ${c.dim(`(${st.dimension}-d)`)}`);
  const params = Object.entries(st.backendParams)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  row('Backend', `${st.backend}${params ? `  ${c.dim(params)}` : ''}`);
  const { indexed, skipped, failed } = st.images;
  row(
    'Images',
    `${c.bold(String(indexed))} indexed · ${skipped} skipped · ${failed} failed  ${c.dim(`(index holds ${st.indexSize} vectors)`)}`,
  );
  row('Last sync', st.lastSync ? `${localTime(st.lastSync)}  ${c.dim(ago(st.lastSync))}` : c.dim('never'));
  if (st.skipped.length > 0) {
    const limit = out.verbose ? st.skipped.length : 10;
    row('Skipped', '');
    for (const f of st.skipped.slice(0, limit)) out.line(`  ${printable(f.path)}  ${c.dim(`${f.reason}: ${printable(f.message)}`)}`);
    if (st.skipped.length > limit) out.line(c.dim(`  … and ${st.skipped.length - limit} more (--verbose lists all)`));
  }
}

export async function run({ out, flags }: CommandContext): Promise<number> {
  const { settings, configFile } = resolveSettings(flags);
  if (!dataDirExists(settings.dataDir)) {
    if (out.json) out.result({ dataDir: settings.dataDir, exists: false });
    else {
      out.line(`Nothing indexed yet in ${printable(settings.dataDir)}`);
      out.info(out.ce.dim(`hint: ${prog()} index ~/Pictures   (or pass the --data-dir you indexed into)`));
    }
    return EXIT.ok;
  }
  const engine = await openEngine(out, settings, { readOnly: true });
  try {
    const st = await engine.stats();
    if (out.json) out.result({ ...st, exists: true, ...(configFile ? { configFile } : {}) });
    else {
      print(out, st);
      if (configFile) out.detail(`config file: ${configFile}`);
    }
    return EXIT.ok;
  } finally {
    await engine.close();
  }
}
