// The shell's wiring, free of Electron: engine events -> tray view, notifications and open
// windows; tray actions and IPC requests -> engine and settings calls. index.ts supplies the
// Electron-backed ports; tests supply fakes. No sync decisions are made here.
import type { ActivityEntry, ConflictInfo, EngineStatus, Resolution, SyncEngineApi } from '../engine-api/types.ts';
import type { EventChannel, EventOf, ResolveResult } from '../ipc/contract.ts';
import type { IpcHandlers, SenderInfo } from './ipc-router.ts';
import { NoticeTracker, NotificationCoalescer, type Notice, type NoticeTarget } from './notify-policy.ts';
import { trayView, type TrayAction, type TrayContext, type TrayView } from './tray-state.ts';
import type { SettingsService } from './settings-service.ts';
import { readConflictPreview } from './conflict-preview.ts';
import { historyHandlers } from './history-handlers.ts';
import { kbIpcHandlers, type KbMonitor } from './kb-monitor.ts';
import { accountHandlers } from './account-handlers.ts';

export type PageName = 'settings' | 'conflicts' | 'activity' | 'history' | 'deleted';

export interface ShellPorts {
  renderTray(view: TrayView): void;
  notify(notice: Notice, onClick: () => void): void;
  /** `query` reaches the page in its URL (the history window's path). */
  openWindow(page: PageName, query?: Record<string, string>): void;
  closeWindow(webContentsId: number): boolean;
  broadcast<C extends EventChannel>(channel: C, payload: EventOf<C>): void;
  openPath(path: string): Promise<string>;
  openExternal(url: string): Promise<void>;
  pickFolder(current?: string): Promise<string | null>;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  quit(): void;
}

export interface EngineContext {
  engine: SyncEngineApi;
  localFolder: string;
}

/** Asks the hub who this key belongs to; resolves to the user id or throws the hub's message. */
export type ConnectionProbe = (serverUrl: string, apiKey: string) => Promise<string>;

export interface ControllerOptions {
  ports: ShellPorts;
  settings: SettingsService;
  /** Reads the stored key for a hub (keychain); used when "Test connection" is pressed without a new key. */
  storedKey: (serverUrl: string) => Promise<string | undefined>;
  probe: ConnectionProbe;
  logFile: string;
  coalesceMs?: number;
}

const IDLE_STATUS: EngineStatus = { phase: 'stopped', pending: 0, conflicts: [], issues: [] };

export class ShellController {
  private current: EngineContext | undefined;
  private unsubscribe: Array<() => void> = [];
  private trayCtx: TrayContext = { setupNeeded: true };
  private readonly tracker = new NoticeTracker();
  private readonly coalescer: NotificationCoalescer;
  /** The hub's knowledge-base leg (kb-monitor.ts); none before setup. */
  private kb: KbMonitor | undefined;

  constructor(private readonly opts: ControllerOptions) {
    this.coalescer = new NotificationCoalescer(opts.coalesceMs ?? 2000, (n) =>
      opts.ports.notify(n, () => this.openTarget(n.target)),
    );
  }

  get engine(): SyncEngineApi | undefined {
    return this.current?.engine;
  }

  status(): EngineStatus {
    return this.current?.engine.status() ?? IDLE_STATUS;
  }

  setKbMonitor(kb: KbMonitor | undefined): void {
    this.kb = kb;
  }

  /** The tray mentions failed KB files (kb-monitor.ts counts them). */
  setKbFailed(n: number): void {
    if (this.trayCtx.kbFailed === n) return;
    this.setTrayContext({ ...this.trayCtx, kbFailed: n });
  }

  setTrayContext(ctx: TrayContext): void {
    this.trayCtx = ctx;
    this.refreshTray();
  }

  refreshTray(): void {
    this.opts.ports.renderTray(trayView(this.status(), this.trayContext()));
  }

  /** The tray's context, with the files the engine moved last (its "Recent files" menu). */
  private trayContext(): TrayContext {
    return { ...this.trayCtx, recentFiles: recentFiles(this.engine?.recentActivity() ?? []) };
  }

  /** Wires a started (or starting) engine's events to the tray, notifications and windows. */
  attach(ctx: EngineContext): void {
    this.detach();
    this.current = ctx;
    const { engine } = ctx;
    this.unsubscribe.push(
      engine.on('status', (s: EngineStatus) => this.onStatus(s)),
      engine.on('activity', (a: ActivityEntry) => this.opts.ports.broadcast('activity:added', a)),
      engine.on('conflict', (c: ConflictInfo) => this.coalescer.push(this.tracker.fromConflict(c))),
    );
    this.onStatus(engine.status());
  }

  detach(): void {
    for (const u of this.unsubscribe.splice(0)) u();
    this.current = undefined;
  }

  private onStatus(s: EngineStatus): void {
    this.coalescer.push(this.tracker.fromStatus(s));
    this.opts.ports.renderTray(trayView(s, this.trayContext()));
    this.opts.ports.broadcast('status:changed', s);
    // After a round the hub's KB round follows: look again now and then, never every rescan.
    if (s.phase === 'idle' && this.kb) this.kb.refreshIfStale().catch((e: unknown) => this.opts.ports.log('warn', `kb status: ${String(e)}`));
  }

  openTarget(target: NoticeTarget): void {
    this.opts.ports.openWindow(target);
  }

  /** Runs a tray menu action. Errors are logged, never thrown into Electron's menu callback. */
  async onTrayAction(action: TrayAction, path?: string): Promise<void> {
    const { ports } = this.opts;
    const engine = this.engine;
    try {
      switch (action) {
        case 'open-folder':
          if (this.trayCtx.localFolder) {
            const err = await ports.openPath(this.trayCtx.localFolder);
            if (err) ports.log('warn', `open folder: ${err}`);
          }
          return;
        case 'open-webui':
          if (this.trayCtx.openWebuiUrl) await ports.openExternal(new URL('/workspace/knowledge', this.trayCtx.openWebuiUrl).href);
          return;
        case 'pause':
          engine?.pause();
          this.refreshTray();
          return;
        case 'resume':
          engine?.resume();
          this.refreshTray();
          return;
        case 'sync-now':
          if (engine) await engine.syncNow();
          return;
        case 'resolve-conflicts':
          ports.openWindow('conflicts');
          return;
        case 'activity':
          ports.openWindow('activity');
          return;
        case 'history':
          if (path) ports.openWindow('history', { path });
          return;
        case 'deleted-files':
          ports.openWindow('deleted');
          return;
        case 'settings':
          ports.openWindow('settings');
          return;
        case 'open-log': {
          const err = await ports.openPath(this.opts.logFile);
          if (err) ports.log('warn', `open log: ${err}`);
          return;
        }
        case 'quit':
          ports.quit();
          return;
      }
    } catch (e) {
      ports.log('error', `tray action ${action} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  async resolve(paths: string[], keep: Resolution): Promise<ResolveResult> {
    const engine = this.engine;
    if (!engine) return { resolved: [], failed: paths.map((path) => ({ path, message: 'Sync is not running' })) };
    const result: ResolveResult = { resolved: [], failed: [] };
    for (const path of paths) {
      try {
        await engine.resolve(path, keep);
        result.resolved.push(path);
      } catch (e) {
        result.failed.push({ path, message: e instanceof Error ? e.message : String(e) });
      }
    }
    // The user's choice goes to the hub now, not at the next interval.
    if (result.resolved.length) {
      engine.syncNow().catch((e: unknown) => this.opts.ports.log('warn', `sync after resolve: ${String(e)}`));
    }
    return result;
  }

  ipcHandlers(onSettingsSaved: () => Promise<void>): IpcHandlers {
    const { ports, settings } = this.opts;
    return {
      ...accountHandlers({ storedKey: (url) => this.opts.storedKey(url), storeKey: (url, key) => settings.storeKey(url, key) }),
      'settings:get': () => settings.view(),
      'settings:save': async (input) => {
        const result = await settings.save(input);
        if (result.ok) await onSettingsSaved();
        return result;
      },
      'settings:test-connection': async ({ serverUrl, apiKey }) => {
        let url: URL;
        try {
          url = new URL(serverUrl.trim());
          if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
        } catch {
          // the message below is the answer
          return { ok: false, message: 'Enter the full hub address first, for example https://hub.example.org' };
        }
        let key = apiKey?.trim();
        if (!key) {
          try {
            key = await this.opts.storedKey(url.href);
          } catch (e) {
            return { ok: false, message: e instanceof Error ? e.message : String(e) };
          }
        }
        if (!key) return { ok: false, message: 'Enter the API key to test the connection' };
        try {
          return { ok: true, userId: await this.opts.probe(url.href, key) };
        } catch (e) {
          return { ok: false, message: e instanceof Error ? e.message : String(e) };
        }
      },
      'settings:pick-folder': async ({ current }) => ({ path: await ports.pickFolder(current) }),
      'status:get': () => this.status(),
      'conflicts:list': async () => (this.engine ? await this.engine.listConflicts() : []),
      'conflicts:preview': async ({ path }) => {
        // Only paths the engine reports as conflicted can be read, so a renderer cannot ask for arbitrary files.
        const conflict = this.engine ? (await this.engine.listConflicts()).find((c) => c.path === path) : undefined;
        if (!conflict || !this.current) return { text: false, truncated: false };
        return readConflictPreview(this.current.localFolder, conflict);
      },
      'conflicts:resolve': ({ paths, keep }) => this.resolve(paths, keep),
      'sync:confirm-deletes': async () => {
        const engine = this.engine;
        if (!engine) return { ok: false, message: 'Sync is not running' };
        try {
          const s = await engine.confirmDeletes();
          ports.log('info', `mass delete confirmed by the user: ${s.deleted} deleted`);
          return { ok: true, message: `${s.deleted} file${s.deleted === 1 ? '' : 's'} deleted` };
        } catch (e) {
          return { ok: false, message: e instanceof Error ? e.message : String(e) };
        }
      },
      'activity:get': () => ({ entries: this.engine?.recentActivity() ?? [], status: this.status() }),
      'app:open-log': async () => ({ ok: (await ports.openPath(this.opts.logFile)) === '' }),
      'app:open-window': ({ page }) => {
        ports.openWindow(page);
        return { ok: true };
      },
      'window:close': (_req, sender: SenderInfo) => ({ ok: ports.closeWindow(sender.webContentsId) }),
      'log:write': ({ level, message }) => {
        ports.log(level, `[renderer] ${message}`);
        return { ok: true };
      },
      ...historyHandlers({
        engine: () => this.engine,
        openHistory: (path) => ports.openWindow('history', { path }),
        openDeleted: () => ports.openWindow('deleted'),
        log: (level, m) => ports.log(level, m),
      }),
      ...kbIpcHandlers(() => this.kb, (url) => ports.openExternal(url)),
    };
  }

  /** Clean quit: give the engine `timeoutMs` to finish or abandon its transfer (temp files are never renamed half-done). */
  async shutdown(timeoutMs: number): Promise<'stopped' | 'timed-out' | 'no-engine'> {
    this.coalescer.dispose();
    const engine = this.engine;
    this.detach();
    if (!engine) return 'no-engine';
    return stopWithTimeout(engine, timeoutMs);
  }
}

export async function stopWithTimeout(engine: Pick<SyncEngineApi, 'stop'>, timeoutMs: number): Promise<'stopped' | 'timed-out'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<'timed-out'>((resolve) => {
    timer = setTimeout(() => resolve('timed-out'), timeoutMs);
  });
  try {
    return await Promise.race([engine.stop().then(() => 'stopped' as const, () => 'stopped' as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The last files the engine moved, newest first, each once (the tray's "Recent files"). */
export function recentFiles(activity: readonly ActivityEntry[], max = 8): string[] {
  const out: string[] = [];
  const newestFirst = [...activity].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  for (const a of newestFirst) {
    if (out.length === max) break;
    if (a.outcome === 'ok' && !out.includes(a.path)) out.push(a.path);
  }
  return out;
}
