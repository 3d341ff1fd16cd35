// "Start at login": Electron's login items on macOS and Windows; on Linux, where Electron has no
// such API, an XDG autostart entry (~/.config/autostart/youlab-sync.desktop).
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface LoginItemTarget {
  platform: NodeJS.Platform;
  /** Electron's app.setLoginItemSettings (macOS, Windows). */
  setLoginItemSettings(s: { openAtLogin: boolean }): void;
  /** What to run at login: the AppImage when running from one, else the executable. */
  command: string;
  /** $XDG_CONFIG_HOME or ~/.config. */
  configHome?: string;
}

export const AUTOSTART_FILE = 'youlab-sync.desktop';

/** Quotes an Exec argument per the Desktop Entry spec. */
function execQuote(arg: string): string {
  return /[\s"'\\$`]/.test(arg) ? `"${arg.replace(/(["\\$`])/g, '\\$1')}"` : arg;
}

export function autostartEntry(command: string): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=YouLab Sync',
    'Comment=Keep your YouLab workspace in sync',
    `Exec=${execQuote(command)}`,
    'Icon=youlab-sync',
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

export function autostartPath(configHome = process.env.XDG_CONFIG_HOME || join(homedir(), '.config')): string {
  return join(configHome, 'autostart', AUTOSTART_FILE);
}

export async function applyStartAtLogin(enabled: boolean, t: LoginItemTarget): Promise<void> {
  if (t.platform !== 'linux') {
    t.setLoginItemSettings({ openAtLogin: enabled });
    return;
  }
  const file = autostartPath(t.configHome);
  if (enabled) {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, autostartEntry(t.command), { mode: 0o644 });
  } else {
    await rm(file, { force: true });
  }
}
