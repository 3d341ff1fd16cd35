// Windows and tray with electron mocked: sandboxed, isolated, no navigation or popups, one
// window per page; the tray shows the right image per platform and its menu calls back.
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';

const electron = vi.hoisted(() => {
  type Handler = (...args: unknown[]) => unknown;
  let nextId = 1;
  class FakeWebContents {
    id = nextId++;
    handlers = new Map<string, Handler>();
    windowOpenHandler: Handler | undefined;
    sent: unknown[][] = [];
    setWindowOpenHandler(h: Handler) {
      this.windowOpenHandler = h;
    }
    on(e: string, h: Handler) {
      this.handlers.set(e, h);
      return this;
    }
    send(...args: unknown[]) {
      this.sent.push(args);
    }
  }
  class FakeWindow {
    static all: FakeWindow[] = [];
    webContents = new FakeWebContents();
    destroyed = false;
    loaded: string | undefined;
    handlers = new Map<string, Handler>();
    shown = 0;
    constructor(public opts: Record<string, unknown>) {
      FakeWindow.all.push(this);
    }
    loads: Array<{ file: string; opts: unknown }> = [];
    loadFile(p: string, opts?: unknown) {
      this.loaded = p;
      this.loads.push({ file: p, opts });
      return Promise.resolve();
    }
    once(e: string, h: Handler) {
      this.handlers.set(e, h);
    }
    on(e: string, h: Handler) {
      this.handlers.set(e, h);
    }
    isDestroyed() {
      return this.destroyed;
    }
    isMinimized() {
      return false;
    }
    restore() {}
    show() {
      this.shown++;
    }
    focus() {}
    close() {
      this.destroyed = true;
      this.handlers.get('closed')?.();
    }
    destroy() {
      this.destroyed = true;
    }
  }
  class FakeTray {
    static last: FakeTray;
    image: unknown;
    tooltip = '';
    menu: unknown;
    constructor(img: unknown) {
      this.image = img;
      FakeTray.last = this;
    }
    setImage(i: unknown) {
      this.image = i;
    }
    setToolTip(t: string) {
      this.tooltip = t;
    }
    title = '';
    setTitle(t: string) {
      this.title = t;
    }
    setContextMenu(m: unknown) {
      this.menu = m;
    }
    destroy() {}
  }
  return {
    BrowserWindow: FakeWindow,
    Tray: FakeTray,
    Menu: { buildFromTemplate: vi.fn((t: unknown) => ({ template: t })) },
    nativeImage: { createFromPath: vi.fn((p: string) => ({ path: p, setTemplateImage: vi.fn() })) },
    session: { defaultSession: { webRequest: { onHeadersReceived: vi.fn() }, setPermissionRequestHandler: vi.fn(), setPermissionCheckHandler: vi.fn() } },
  };
});
vi.mock('electron', () => electron);

import { AppTray, menuTemplate } from '../../app/main/tray.ts';
import { trayView } from '../../app/main/tray-state.ts';
import { CSP, hardenSession, WindowManager } from '../../app/main/windows.ts';

type FakeWindow = InstanceType<typeof electron.BrowserWindow>;

beforeEach(() => {
  electron.BrowserWindow.all.length = 0;
});

describe('WindowManager', () => {
  const paths = { rendererDir: '/app/dist/renderer', preload: '/app/dist/preload/index.cjs' };

  it('creates sandboxed, isolated windows without Node, loading our own page file', () => {
    const wm = new WindowManager(paths);
    wm.show('settings');
    const win = electron.BrowserWindow.all[0] as FakeWindow;
    expect(win.opts.webPreferences).toMatchObject({
      preload: '/app/dist/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
    expect(win.loaded).toBe(join('/app/dist/renderer', 'settings.html'));
    expect(win.opts.show).toBe(false);
    win.handlers.get('ready-to-show')!();
    expect(win.shown).toBe(1);
  });

  it('the history window shows one file: another path reloads it with that path, the same path only focuses it', () => {
    const wm = new WindowManager(paths);
    wm.show('history', { path: 'notes/plan.md' });
    wm.show('history', { path: 'notes/plan.md' });
    wm.show('history', { path: 'todo.txt' });
    expect(electron.BrowserWindow.all).toHaveLength(1);
    const win = electron.BrowserWindow.all[0] as FakeWindow;
    expect(win.loads).toEqual([
      { file: join('/app/dist/renderer', 'history.html'), opts: { query: { path: 'notes/plan.md' } } },
      { file: join('/app/dist/renderer', 'history.html'), opts: { query: { path: 'todo.txt' } } },
    ]);
  });

  it('denies window.open, navigation, redirects and webviews', () => {
    const wm = new WindowManager(paths);
    wm.show('conflicts');
    const wc = (electron.BrowserWindow.all[0] as FakeWindow).webContents;
    expect(wc.windowOpenHandler!({ url: 'https://evil.example' })).toEqual({ action: 'deny' });
    for (const e of ['will-navigate', 'will-redirect', 'will-attach-webview']) {
      const event = { preventDefault: vi.fn() };
      wc.handlers.get(e)!(event, 'https://evil.example');
      expect(event.preventDefault).toHaveBeenCalled();
    }
  });

  it('keeps one window per page, knows its own webContents, and closes by sender', () => {
    const wm = new WindowManager(paths);
    wm.show('settings');
    wm.show('settings');
    wm.show('activity');
    expect(electron.BrowserWindow.all).toHaveLength(2);
    const [settings, activity] = electron.BrowserWindow.all as FakeWindow[];
    expect(wm.owns(settings!.webContents.id)).toBe(true);
    expect(wm.owns(9999)).toBe(false);
    wm.broadcast('status:changed', { phase: 'idle', pending: 0, conflicts: [], issues: [] });
    expect(activity!.webContents.sent[0]![0]).toBe('status:changed');
    expect(wm.close(settings!.webContents.id)).toBe(true);
    expect(wm.owns(settings!.webContents.id)).toBe(false);
    wm.show('settings');
    expect(electron.BrowserWindow.all).toHaveLength(3);
  });

  it('session: strict CSP header, every permission refused', () => {
    hardenSession();
    const ses = electron.session.defaultSession;
    const onHeaders = ses.webRequest.onHeadersReceived.mock.calls[0]![0] as (d: unknown, cb: (r: unknown) => void) => void;
    const cb = vi.fn();
    onHeaders({ responseHeaders: { 'X-A': ['1'] } }, cb);
    expect(cb).toHaveBeenCalledWith({ responseHeaders: { 'X-A': ['1'], 'Content-Security-Policy': [CSP] } });
    expect(CSP).toMatch(/^default-src 'none'; script-src 'self'; style-src 'self';/);
    const perm = vi.fn();
    (ses.setPermissionRequestHandler.mock.calls[0]![0] as (w: unknown, p: string, cb: (ok: boolean) => void) => void)({}, 'media', perm);
    expect(perm).toHaveBeenCalledWith(false);
  });
});

describe('AppTray', () => {
  const status = { phase: 'syncing' as const, pending: 2, conflicts: [], issues: [] };

  it.each([
    ['linux', join('/assets', 'tray', 'linux', 'syncing.png')],
    ['darwin', join('/assets', 'tray', 'mac', 'syncingTemplate.png')],
    ['win32', join('/assets', 'tray', 'win', 'syncing.ico')],
  ] as const)('shows the state image on %s', (platform, file) => {
    const tray = new AppTray('/assets', () => {}, platform);
    tray.render(trayView(status, { localFolder: '/f' }));
    const t = electron.Tray.last;
    expect((t.image as { path: string }).path).toBe(file);
    expect(t.tooltip).toBe('YouLab Sync: Syncing 2 files');
    // The menu bar shows the count beside the icon on macOS only.
    expect(t.title).toBe(platform === 'darwin' ? '2' : '');
  });

  it('menu entries call back with their action; the status line is not clickable', () => {
    const onAction = vi.fn();
    const template = menuTemplate(trayView(status, { localFolder: '/f' }).menu, onAction);
    expect(template[0]).toEqual({ label: 'Syncing 2 files', enabled: false });
    expect(template[1]).toEqual({ type: 'separator' });
    const pause = template.find((t) => t.id === 'pause')!;
    (pause.click as () => void)();
    expect(onAction).toHaveBeenCalledWith('pause');
    expect(template.find((t) => t.id === 'sync-now')!.enabled).toBe(false);
  });
});
