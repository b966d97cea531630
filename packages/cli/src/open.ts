import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Finds an executable in PATH. */
function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/** The system "open with the default application" command, when this machine has one. */
export function systemOpener(): { cmd: string; args: string[] } | undefined {
  if (process.platform === 'darwin') return { cmd: 'open', args: [] };
  if (process.platform === 'win32') return { cmd: 'cmd', args: ['/c', 'start', '""'] };
  for (const c of ['xdg-open', 'gio', 'wslview']) {
    const p = which(c);
    if (p) return { cmd: p, args: c === 'gio' ? ['open'] : [] };
  }
  return undefined;
}

/**
 * Opens a file or URL with the system viewer, detached (the CLI does not wait for it).
 * Returns false when no opener exists on this machine.
 */
export function openWithSystem(target: string): boolean {
  const opener = systemOpener();
  if (!opener) return false;
  const child = spawn(opener.cmd, [...opener.args, target], { detached: true, stdio: 'ignore' });
  child.on('error', () => {});
  child.unref();
  return true;
}
