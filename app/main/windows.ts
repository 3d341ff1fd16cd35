// The app's windows: one per page, sandboxed, isolated, with no Node, no navigation away from
// our own file and no new windows. Pages come from dist/renderer and carry their own CSP meta
// tag; the session adds the same CSP as a header for anything served another way.
import { BrowserWindow, session, type WebContents } from 'electron';
import { join } from 'node:path';
import type { EventChannel, EventOf } from '../ipc/contract.ts';
import type { PageName } from './controller.ts';

export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'none'; " +
  "font-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const PAGE_SIZE: Record<PageName, { width: number; height: number; title: string }> = {
  settings: { width: 620, height: 780, title: 'YouLab Sync Settings' },
  conflicts: { width: 980, height: 700, title: 'Resolve conflicts' },
  activity: { width: 720, height: 620, title: 'Recent activity' },
  history: { width: 860, height: 640, title: 'Version history' },
  deleted: { width: 860, height: 640, title: 'Deleted files' },
};

export function secureWebPreferences(preload: string): Electron.WebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    spellcheck: false,
  };
}

/** Denies every way a page could leave our files: navigation, redirects, popups, webviews. */
export function hardenWebContents(contents: WebContents): void {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-navigate', (e) => e.preventDefault());
  contents.on('will-redirect', (e) => e.preventDefault());
  contents.on('will-attach-webview', (e) => e.preventDefault());
}

/** Session-wide: the CSP header, and every permission request (camera, notifications from pages...) refused. */
export function hardenSession(): void {
  const ses = session.defaultSession;
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
  ses.setPermissionRequestHandler((_wc, _perm, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
}

export interface WindowPaths {
  rendererDir: string;
  preload: string;
  icon?: string;
}

export class WindowManager {
  private readonly open = new Map<PageName, BrowserWindow>();
  /** The query each open window was loaded with (the history window shows one file at a time). */
  private readonly queries = new Map<PageName, string>();

  constructor(private readonly paths: WindowPaths) {}

  show(page: PageName, query?: Record<string, string>): BrowserWindow {
    const existing = this.open.get(page);
    const q = JSON.stringify(query ?? {});
    if (existing && !existing.isDestroyed()) {
      if (this.queries.get(page) !== q) {
        this.queries.set(page, q);
        void existing.loadFile(join(this.paths.rendererDir, `${page}.html`), query ? { query } : {});
      }
      if (existing.isMinimized()) existing.restore();
      existing.show();
      existing.focus();
      return existing;
    }
    const size = PAGE_SIZE[page];
    const win = new BrowserWindow({
      width: size.width,
      height: size.height,
      minWidth: 480,
      minHeight: 420,
      title: size.title,
      show: false,
      autoHideMenuBar: true,
      ...(this.paths.icon ? { icon: this.paths.icon } : {}),
      webPreferences: secureWebPreferences(this.paths.preload),
    });
    hardenWebContents(win.webContents);
    win.once('ready-to-show', () => win.show());
    win.on('closed', () => this.open.delete(page));
    this.open.set(page, win);
    this.queries.set(page, q);
    void win.loadFile(join(this.paths.rendererDir, `${page}.html`), query ? { query } : {});
    return win;
  }

  /** True when the webContents belongs to one of our windows (an IPC sender check). */
  owns(webContentsId: number): boolean {
    for (const w of this.open.values()) if (!w.isDestroyed() && w.webContents.id === webContentsId) return true;
    return false;
  }

  close(webContentsId: number): boolean {
    for (const w of this.open.values()) {
      if (!w.isDestroyed() && w.webContents.id === webContentsId) {
        w.close();
        return true;
      }
    }
    return false;
  }

  broadcast<C extends EventChannel>(channel: C, payload: EventOf<C>): void {
    for (const w of this.open.values()) if (!w.isDestroyed()) w.webContents.send(channel, payload);
  }

  closeAll(): void {
    for (const w of this.open.values()) if (!w.isDestroyed()) w.destroy();
    this.open.clear();
  }
}
