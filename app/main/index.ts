// Electron entry: wires the engine, tray, windows, notifications, IPC and logging together.
// Everything with a decision in it lives in a module of its own (tray-state, notify-policy,
// ipc-router, settings-service, startup, controller) and is tested without Electron.
import { app, dialog, ipcMain, Menu, shell } from 'electron';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultConfigPath, loadConfig } from '../sync/config.ts';
import { accountFor, createOsKeychain, KeychainUnavailableError, type SecretStore } from '../sync/keychain.ts';
import { resolveApiKey } from '../sync/key-source.ts';
import { ShellController, type ShellPorts } from './controller.ts';
import { desktopPrefsPath, loadDesktopPrefs } from './desktop-prefs.ts';
import { createEngine } from './engine-factory.ts';
import { probeHub } from './hub-probe.ts';
import { KB_LIST_LIMIT, KbMonitor } from './kb-monitor.ts';
import { HubClient } from '../sync/hub-client.ts';
import { bindIpc } from './ipc.ts';
import { createIpcRouter, isOwnPageUrl } from './ipc-router.ts';
import { setupLogging } from './log.ts';
import { applyStartAtLogin } from './login-item.ts';
import { showNotice } from './notifications.ts';
import { SettingsService } from './settings-service.ts';
import { acquireSingleInstance, initialWindow, secondLaunchWindow } from './startup.ts';
import { AppTray } from './tray.ts';
import { appIconPath } from './tray-icons.ts';
import { hardenSession, hardenWebContents, WindowManager } from './windows.ts';

/** How long quitting waits for the engine to finish or abandon its transfer. */
const QUIT_TIMEOUT_MS = 10_000;

const here = dirname(fileURLToPath(import.meta.url));
const rendererDir = join(here, '..', 'renderer');
const preload = join(here, '..', 'preload', 'index.cjs');

const { file: logFile, log } = setupLogging();

if (acquireSingleInstance(app, () => void onSecondLaunch())) {
  app.whenReady().then(main, (e: unknown) => {
    log.error('startup failed', e);
    app.exit(1);
  });
}

let windows: WindowManager | undefined;
let settings: SettingsService | undefined;

async function onSecondLaunch(): Promise<void> {
  if (!windows || !settings) return;
  windows.show(secondLaunchWindow(await settings.isConfigured()));
}

async function main(): Promise<void> {
  configureApp();
  const assetsDir = join(app.getAppPath(), 'assets');
  const configPath = defaultConfigPath();
  const prefsPath = desktopPrefsPath(configPath);
  const secrets = createOsKeychain();
  settings = createSettings(configPath, prefsPath, secrets);
  const wm = new WindowManager({ rendererDir, preload, icon: appIconPath(assetsDir, process.platform) });
  windows = wm;
  const { ctl, tray } = createShell(settings, secrets, wm, assetsDir);
  const restartEngine = engineRestarter(ctl, configPath, prefsPath, secrets);

  bindIpc(
    ipcMain,
    createIpcRouter(
      ctl.ipcHandlers(restartEngine),
      (s) => wm.owns(s.webContentsId) && isOwnPageUrl(s.url, rendererDir),
      (reason, channel, detail) => log.warn(`IPC rejected (${reason}) on ${channel}: ${detail}`),
    ),
  );
  quitAfterEngine(ctl, wm, tray);

  await restartEngine();
  const first = initialWindow(await settings.isConfigured());
  if (first) wm.show(first);
  log.info('YouLab Sync started');
}

/** The app as a tray app with hardened windows. */
function configureApp(): void {
  // Tray-only on macOS as well (LSUIElement in the packaged app; this covers `electron .`).
  if (process.platform === 'darwin') app.dock?.hide();
  // No app menu (no Reload / DevTools); macOS keeps an Edit menu so copy and paste work in fields.
  Menu.setApplicationMenu(process.platform === 'darwin' ? Menu.buildFromTemplate([{ role: 'editMenu' }]) : null);
  hardenSession();
  app.on('web-contents-created', (_e, wc) => hardenWebContents(wc));
  // A tray app stays when its last window closes.
  app.on('window-all-closed', () => {});
}

function createSettings(configPath: string, prefsPath: string, secrets: SecretStore): SettingsService {
  return new SettingsService({
    configPath,
    prefsPath,
    secrets,
    setStartAtLogin: (enabled) =>
      applyStartAtLogin(enabled, {
        platform: process.platform,
        setLoginItemSettings: (s) => app.setLoginItemSettings(s),
        command: process.env.APPIMAGE ?? process.execPath,
      }),
  });
}

/** The tray and the controller that drives it, wired to Electron. */
function createShell(settings: SettingsService, secrets: SecretStore, wm: WindowManager, assetsDir: string): { ctl: ShellController; tray: AppTray } {
  let controller: ShellController | undefined = undefined;
  const tray = new AppTray(assetsDir, (a, path) => void controller?.onTrayAction(a, path));
  const ctl = new ShellController({
    settings,
    logFile,
    storedKey: (url) => secrets.get(accountFor(url)),
    probe: (url, key) => probeHub(url, key),
    ports: shellPorts(wm, tray, assetsDir),
  });
  controller = ctl;
  return { ctl, tray };
}

function shellPorts(wm: WindowManager, tray: AppTray, assetsDir: string): ShellPorts {
  return {
    renderTray: (view) => tray.render(view),
    notify: (n, onClick) => showNotice(n, onClick, appIconPath(assetsDir, process.platform)),
    openWindow: (page, query) => void wm.show(page, query),
    closeWindow: (id) => wm.close(id),
    broadcast: (channel, payload) => wm.broadcast(channel, payload),
    openPath: (p) => shell.openPath(p),
    openExternal: (url) => shell.openExternal(url),
    pickFolder: async (current) => {
      const r = await dialog.showOpenDialog({
        title: 'Choose the folder to sync',
        properties: ['openDirectory', 'createDirectory'],
        ...(current ? { defaultPath: current } : {}),
      });
      return r.canceled ? null : (r.filePaths[0] ?? null);
    },
    log: (level, message) => log[level](message),
    quit: () => app.quit(),
  };
}

/** Stops the running engine, then starts one from the saved settings (none while setup is needed). */
function engineRestarter(ctl: ShellController, configPath: string, prefsPath: string, secrets: SecretStore): () => Promise<void> {
  return async () => {
    await ctl.shutdown(QUIT_TIMEOUT_MS);
    const config = await loadConfig(configPath).catch((e: unknown) => {
      log.error('config', e);
      return undefined;
    });
    const prefs = await loadDesktopPrefs(prefsPath);
    const key = config?.server.url ? await appKey(config.server.url, secrets) : undefined;
    const folder = config?.sync.local_folder;
    ctl.setTrayContext({
      ...(folder ? { localFolder: folder } : {}),
      ...(prefs.openwebui_url ? { openWebuiUrl: prefs.openwebui_url } : {}),
      setupNeeded: !config?.server.url || !folder || !key,
    });
    ctl.setKbMonitor(undefined);
    if (!config || !folder || !key) return;
    if (config.server.url) ctl.setKbMonitor(kbMonitorFor(ctl, config.server.url, key, prefs.openwebui_url));
    try {
      const engine = await createEngine({ config, apiKey: key });
      ctl.attach({ engine, localFolder: folder });
      engine.start().catch((e: unknown) => log.error('engine start', e));
    } catch (e) {
      log.error('engine', e);
    }
  };
}

/**
 * The key: YOULAB_API_KEY (in memory, as `npm start` hands it over) or the OS keychain. The log
 * says where it is kept, or why the keychain cannot be used; with neither, the settings window
 * asks for the key and shows the keychain's problem. Nothing here writes a key.
 */
async function appKey(url: string, secrets: SecretStore): Promise<string | undefined> {
  try {
    const src = await resolveApiKey({ server: url, keychain: secrets });
    log.info(`API key: kept in ${src.where}`);
    return src.key;
  } catch (e) {
    log.warn(e instanceof KeychainUnavailableError ? `API key: ${e.message}` : `API key: ${(e as Error).message}`);
    return undefined;
  }
}

/** The hub's knowledge-base leg for the Recent activity window and the tray (kb-monitor.ts). */
function kbMonitorFor(ctl: ShellController, serverUrl: string, apiKey: string, openWebuiUrl: string | undefined): KbMonitor {
  const hub = new HubClient({ baseUrl: serverUrl, apiKey, maxRateLimitRetries: 1 });
  return new KbMonitor({
    source: { status: () => hub.kbStatus({ states: ['failed', 'held'], limit: KB_LIST_LIMIT }), confirmDeletes: () => hub.confirmKbDeletes() },
    openWebuiUrl: openWebuiUrl || undefined,
    onFailedCount: (n) => ctl.setKbFailed(n),
  });
}

/** Quitting lets the engine finish or abandon its transfer first (up to QUIT_TIMEOUT_MS). */
function quitAfterEngine(ctl: ShellController, wm: WindowManager, tray: AppTray): void {
  let quitting = false;
  app.on('before-quit', (e) => {
    if (quitting) return;
    quitting = true;
    e.preventDefault();
    void ctl.shutdown(QUIT_TIMEOUT_MS).then((how) => {
      log.info(`engine ${how}; quitting`);
      wm.closeAll();
      tray.destroy();
      app.exit(0);
    });
  });
}
