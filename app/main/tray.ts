// The Electron side of the tray: renders a TrayView (tray-state.ts) into Tray + Menu objects.
import { Menu, nativeImage, Tray, type MenuItemConstructorOptions } from 'electron';
import type { MenuEntry, TrayAction, TrayView } from './tray-state.ts';
import { trayIconPath } from './tray-icons.ts';

export function menuTemplate(entries: MenuEntry[], onAction: (a: TrayAction, path?: string) => void): MenuItemConstructorOptions[] {
  return entries.map((e): MenuItemConstructorOptions => {
    switch (e.kind) {
      case 'separator':
        return { type: 'separator' };
      case 'status':
        return { label: e.label, enabled: false };
      case 'item':
        return { id: e.path ? `${e.action}:${e.path}` : e.action, label: e.label, enabled: e.enabled, click: () => (e.path ? onAction(e.action, e.path) : onAction(e.action)) };
      case 'submenu':
        return { label: e.label, submenu: menuTemplate(e.entries, onAction) };
    }
  });
}

export class AppTray {
  private readonly tray: Tray;
  private lastIcon = '';

  constructor(
    private readonly assetsDir: string,
    private readonly onAction: (a: TrayAction, path?: string) => void,
    private readonly platform: NodeJS.Platform = process.platform,
  ) {
    this.tray = new Tray(nativeImage.createFromPath(trayIconPath(assetsDir, 'paused', platform)));
  }

  render(view: TrayView): void {
    if (view.icon !== this.lastIcon) {
      const img = nativeImage.createFromPath(trayIconPath(this.assetsDir, view.icon, this.platform));
      if (this.platform === 'darwin') img.setTemplateImage(true);
      this.tray.setImage(img);
      this.lastIcon = view.icon;
    }
    this.tray.setToolTip(view.tooltip);
    if (this.platform === 'darwin') this.tray.setTitle(view.title);
    this.tray.setContextMenu(Menu.buildFromTemplate(menuTemplate(view.menu, this.onAction)));
  }

  destroy(): void {
    this.tray.destroy();
  }
}
