// Which image file shows each tray state on each platform (see assets/README.md for the set).
import { join } from 'node:path';
import type { TrayIconName } from './tray-state.ts';

/**
 * macOS: template images (black + alpha, the menu bar tints them; Electron picks @2x itself).
 * Windows: .ico with 16-48 px frames. Linux: 22 px PNG with an @2x sibling.
 */
export function trayIconPath(assetsDir: string, name: TrayIconName, platform: NodeJS.Platform): string {
  if (platform === 'darwin') return join(assetsDir, 'tray', 'mac', `${name}Template.png`);
  if (platform === 'win32') return join(assetsDir, 'tray', 'win', `${name}.ico`);
  return join(assetsDir, 'tray', 'linux', `${name}.png`);
}

export function appIconPath(assetsDir: string, platform: NodeJS.Platform): string {
  if (platform === 'win32') return join(assetsDir, 'icon.ico');
  return join(assetsDir, 'icon-512.png');
}
