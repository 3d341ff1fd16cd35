// The shell's wiring with a fake engine and recorded ports: tray actions call the engine,
// engine status reaches the tray, windows and (coalesced) notifications, IPC handlers do what
// they promise, and quitting waits for the engine only so long.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ShellController, stopWithTimeout, type ShellPorts } from '../../app/main/controller.ts';
import { desktopPrefsPath } from '../../app/main/desktop-prefs.ts';
import { SettingsService } from '../../app/main/settings-service.ts';
import type { SenderInfo } from '../../app/main/ipc-router.ts';
import type { TrayView } from '../../app/main/tray-state.ts';
import { createMemoryKeychain } from '../../app/sync/keychain.ts';
import type { ActivityEntry, ConflictInfo, DeletedList, EngineStatus, KeptVersion, RoundSummary, SyncEngineApi } from '../../app/engine-api/types.ts';

const ROUND: RoundSummary = { uploaded: 0, downloaded: 0, deleted: 0, conflicts: 0, failed: 0, converged: true };

class FakeEngine implements SyncEngineApi {
  state: EngineStatus = { phase: 'idle', pending: 0, conflicts: [], issues: [] };
  activity: ActivityEntry[] = [];
  listeners = { status: new Set<(s: EngineStatus) => void>(), activity: new Set<(a: ActivityEntry) => void>(), conflict: new Set<(c: ConflictInfo) => void>() };
  start = vi.fn(async () => {});
  stop = vi.fn(async () => {});
  pause = vi.fn(() => this.set({ phase: 'paused' }));
  resume = vi.fn(() => this.set({ phase: 'idle' }));
  syncNow = vi.fn(async () => ROUND);
  confirmDeletes = vi.fn(async () => ({ ...ROUND, deleted: 41 }));
  restoreDeleted = vi.fn(async () => ({ ...ROUND, downloaded: 40, uploaded: 1 }));
  history = {
    listVersions: vi.fn(async () => [] as KeptVersion[]),
    versionHead: vi.fn(async () => ({ bytes: new Uint8Array(), truncated: false })),
    restoreVersion: vi.fn(async (path: string) => ({ path, hash: 'sha256:' + '0'.repeat(64), size: 0 })),
    listDeleted: vi.fn(async (): Promise<DeletedList> => ({ entries: [] })),
    restoreFromTrash: vi.fn(async (id: string) => ({ path: id.split('/').slice(1).join('/') })),
  };
  resolve = vi.fn(async (path: string) => {
    if (path === 'locked.md') throw new Error('locked.md is open in another program');
    this.set({ conflicts: this.state.conflicts.filter((c) => c.path !== path) });
  });
  status() {
    return this.state;
  }
  recentActivity() {
    return this.activity;
  }
  async listConflicts() {
    return this.state.conflicts;
  }
  on(event: 'status' | 'activity' | 'conflict', listener: (x: never) => void): () => void {
    const set = this.listeners[event] as Set<(x: never) => void>;
    set.add(listener);
    return () => set.delete(listener);
  }
  set(patch: Partial<EngineStatus>) {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners.status) l(this.state);
  }
}

const conflict = (path: string, copyPath = `${path}.conflict`): ConflictInfo => ({
  path,
  copyPath,
  device: 'laptop',
  detectedAt: '2026-11-27T10:15:00Z',
  mine: { size: 5, modified: '2026-11-27T10:00:00Z', hash: 'sha256:' + 'a'.repeat(64) },
  theirs: { size: 6, modified: '2026-11-27T10:10:00Z', hash: 'sha256:' + 'b'.repeat(64) },
});

function ports() {
  const trays: TrayView[] = [];
  const p = {
    renderTray: vi.fn((v: TrayView) => void trays.push(v)),
    notify: vi.fn(),
    openWindow: vi.fn(),
    closeWindow: vi.fn(() => true),
    broadcast: vi.fn(),
    openPath: vi.fn(async () => ''),
    openExternal: vi.fn(async () => {}),
    pickFolder: vi.fn(async () => '/picked'),
    log: vi.fn(),
    quit: vi.fn(),
  } satisfies ShellPorts;
  return { p, trays };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'youlab-main-controller-'));
});
afterEach(async () => {
  vi.useRealTimers();
  await rm(dir, { recursive: true, force: true });
});

function setup(opts: { probe?: (u: string, k: string) => Promise<string>; storedKey?: string } = {}) {
  const { p, trays } = ports();
  const configPath = join(dir, 'config.yaml');
  const settings = new SettingsService({ configPath, prefsPath: desktopPrefsPath(configPath), secrets: createMemoryKeychain(), setStartAtLogin: () => {} });
  const probe = vi.fn(opts.probe ?? (async () => 'ada'));
  const ctl = new ShellController({ ports: p, settings, storedKey: async () => opts.storedKey, probe, logFile: '/var/log/youlab/main.log', coalesceMs: 1000 });
  const engine = new FakeEngine();
  const onSaved = vi.fn(async () => {});
  const ipc = ctl.ipcHandlers(onSaved);
  const sender: SenderInfo = { url: 'file:///app/dist/renderer/settings.html', webContentsId: 3 };
  return { ctl, engine, p, trays, ipc, probe, sender, onSaved };
}

describe('tray menu actions', () => {
  it('call the engine', async () => {
    const { ctl, engine, trays } = setup();
    ctl.setTrayContext({ localFolder: '/home/ada/YouLab' });
    ctl.attach({ engine, localFolder: '/home/ada/YouLab' });
    await ctl.onTrayAction('pause');
    expect(engine.pause).toHaveBeenCalledTimes(1);
    expect(trays.at(-1)!.icon).toBe('paused');
    await ctl.onTrayAction('resume');
    expect(engine.resume).toHaveBeenCalledTimes(1);
    expect(trays.at(-1)!.icon).toBe('idle');
    await ctl.onTrayAction('sync-now');
    expect(engine.syncNow).toHaveBeenCalledTimes(1);
  });

  it('open folders, pages, the log and Open WebUI, and quit', async () => {
    const { ctl, engine, p } = setup();
    ctl.setTrayContext({ localFolder: '/home/ada/YouLab', openWebuiUrl: 'https://owui.example.org/' });
    ctl.attach({ engine, localFolder: '/home/ada/YouLab' });
    await ctl.onTrayAction('open-folder');
    await ctl.onTrayAction('open-log');
    expect(p.openPath.mock.calls).toEqual([['/home/ada/YouLab'], ['/var/log/youlab/main.log']]);
    await ctl.onTrayAction('open-webui');
    expect(p.openExternal).toHaveBeenCalledWith('https://owui.example.org/workspace/knowledge');
    await ctl.onTrayAction('resolve-conflicts');
    await ctl.onTrayAction('activity');
    await ctl.onTrayAction('settings');
    expect(p.openWindow.mock.calls.map((c) => c[0])).toEqual(['conflicts', 'activity', 'settings']);
    await ctl.onTrayAction('quit');
    expect(p.quit).toHaveBeenCalledTimes(1);
  });

  it('log an engine failure instead of throwing into the menu', async () => {
    const { ctl, engine, p } = setup();
    ctl.attach({ engine, localFolder: '/f' });
    engine.syncNow.mockRejectedValueOnce(new Error('hub unreachable'));
    await expect(ctl.onTrayAction('sync-now')).resolves.toBeUndefined();
    expect(p.log).toHaveBeenCalledWith('error', 'tray action sync-now failed: hub unreachable');
  });
});

describe('engine events', () => {
  it('status changes redraw the tray and reach open windows; activity is forwarded', () => {
    const { ctl, engine, p, trays } = setup();
    ctl.setTrayContext({ localFolder: '/f' });
    ctl.attach({ engine, localFolder: '/f' });
    engine.set({ phase: 'syncing', pending: 2 });
    expect(trays.at(-1)).toMatchObject({ icon: 'syncing', tooltip: 'YouLab Sync: Syncing 2 files' });
    expect(p.broadcast).toHaveBeenLastCalledWith('status:changed', engine.state);
    const a: ActivityEntry = { at: 'now', path: 'a.md', direction: 'up', outcome: 'ok' };
    for (const l of engine.listeners.activity) l(a);
    expect(p.broadcast).toHaveBeenLastCalledWith('activity:added', a);
  });

  it('a burst of conflicts raises one notification, and clicking it opens the conflict dialog', () => {
    vi.useFakeTimers();
    const { ctl, engine, p } = setup();
    ctl.attach({ engine, localFolder: '/f' });
    engine.set({ phase: 'syncing' });
    for (let i = 1; i <= 20; i++) {
      const c = conflict(`file${i}.md`);
      for (const l of engine.listeners.conflict) l(c);
      engine.set({ conflicts: [...engine.state.conflicts, c] });
    }
    engine.set({ phase: 'idle' });
    expect(p.notify).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1000);
    expect(p.notify).toHaveBeenCalledTimes(1);
    const [notice, onClick] = p.notify.mock.calls[0] as unknown as [{ title: string }, () => void];
    expect(notice.title).toBe('20 new conflicts');
    onClick();
    expect(p.openWindow).toHaveBeenCalledWith('conflicts');
    // Routine rounds afterwards stay quiet.
    engine.set({ phase: 'syncing' });
    engine.set({ phase: 'idle' });
    vi.advanceTimersByTime(5000);
    expect(p.notify).toHaveBeenCalledTimes(1);
  });

  it('detach stops listening', () => {
    const { ctl, engine, trays } = setup();
    ctl.attach({ engine, localFolder: '/f' });
    const n = trays.length;
    ctl.detach();
    engine.set({ phase: 'syncing' });
    expect(trays.length).toBe(n);
    expect(ctl.status().phase).toBe('stopped');
  });
});

describe('IPC handlers', () => {
  it('resolve every requested file through the engine, report failures, then sync at once', async () => {
    const { ctl, engine, ipc, sender } = setup();
    engine.state.conflicts = [conflict('a.md'), conflict('locked.md'), conflict('b.md')];
    ctl.attach({ engine, localFolder: '/f' });
    const r = await ipc['conflicts:resolve']({ paths: ['a.md', 'locked.md', 'b.md'], keep: 'theirs' }, sender);
    expect(r).toEqual({ resolved: ['a.md', 'b.md'], failed: [{ path: 'locked.md', message: 'locked.md is open in another program' }] });
    expect(engine.resolve.mock.calls).toEqual([
      ['a.md', 'theirs'],
      ['locked.md', 'theirs'],
      ['b.md', 'theirs'],
    ]);
    expect(engine.syncNow).toHaveBeenCalledTimes(1);
  });

  it('confirming the mass-delete guard runs one confirmed round and reports what it deleted', async () => {
    const { ctl, engine, ipc, sender } = setup();
    expect(await ipc['sync:confirm-deletes'](undefined, sender)).toEqual({ ok: false, message: 'Sync is not running' });
    ctl.attach({ engine, localFolder: '/f' });
    expect(await ipc['sync:confirm-deletes'](undefined, sender)).toEqual({ ok: true, message: '41 files deleted' });
    expect(engine.confirmDeletes).toHaveBeenCalledTimes(1);
    expect(engine.syncNow).not.toHaveBeenCalled();
    engine.confirmDeletes.mockRejectedValueOnce(new Error('the local folder is missing'));
    expect(await ipc['sync:confirm-deletes'](undefined, sender)).toEqual({ ok: false, message: 'the local folder is missing' });
  });

  it('resolve without a running engine fails every path plainly', async () => {
    const { ipc, sender } = setup();
    expect(await ipc['conflicts:resolve']({ paths: ['a.md'], keep: 'mine' }, sender)).toEqual({ resolved: [], failed: [{ path: 'a.md', message: 'Sync is not running' }] });
  });

  it('preview reads both versions of a listed conflict, and nothing else', async () => {
    const { ctl, engine, ipc, sender } = setup();
    const root = join(dir, 'YouLab');
    await mkdir(join(root, 'notes'), { recursive: true });
    await writeFile(join(root, 'notes', 'plan.md'), 'theirs\nline\n');
    await writeFile(join(root, 'notes', 'plan (conflict).md'), 'mine\nline\n');
    await writeFile(join(root, 'pic.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0]));
    await writeFile(join(root, 'pic (conflict).png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 0]));
    await writeFile(join(dir, 'secret.txt'), 'do not read');
    engine.state.conflicts = [
      conflict('notes/plan.md', 'notes/plan (conflict).md'),
      conflict('pic.png', 'pic (conflict).png'),
      conflict('../secret.txt', '../secret.txt'),
    ];
    ctl.attach({ engine, localFolder: root });
    expect(await ipc['conflicts:preview']({ path: 'notes/plan.md' }, sender)).toEqual({ text: true, mine: 'mine\nline\n', theirs: 'theirs\nline\n', truncated: false });
    expect(await ipc['conflicts:preview']({ path: 'pic.png' }, sender)).toEqual({ text: false, truncated: false });
    expect(await ipc['conflicts:preview']({ path: 'not-a-conflict.md' }, sender)).toEqual({ text: false, truncated: false });
    // Even a path the engine lists cannot lead outside the folder.
    expect(await ipc['conflicts:preview']({ path: '../secret.txt' }, sender)).toEqual({ text: false, truncated: false });
  });

  it('test connection: user id from the hub, or its exact error; a stored key is used when none is typed', async () => {
    const { ipc, probe, sender } = setup({
      storedKey: 'stored-key',
      probe: async (_u, k) => {
        if (k === 'bad') throw new Error('The hub rejected this API key (HTTP 401): unknown key');
        return 'ada';
      },
    });
    expect(await ipc['settings:test-connection']({ serverUrl: 'https://hub.example.org', apiKey: 'good' }, sender)).toEqual({ ok: true, userId: 'ada' });
    expect(await ipc['settings:test-connection']({ serverUrl: 'https://hub.example.org', apiKey: 'bad' }, sender)).toEqual({
      ok: false,
      message: 'The hub rejected this API key (HTTP 401): unknown key',
    });
    await ipc['settings:test-connection']({ serverUrl: 'https://hub.example.org' }, sender);
    expect(probe).toHaveBeenLastCalledWith('https://hub.example.org/', 'stored-key');
    expect(await ipc['settings:test-connection']({ serverUrl: 'hub' }, sender)).toMatchObject({ ok: false, message: expect.stringContaining('full hub address') });
  });

  it('a successful save restarts the engine; a refused one does not', async () => {
    const { ipc, sender, onSaved } = setup();
    const folder = join(dir, 'YouLab');
    await mkdir(folder, { recursive: true });
    const good = { serverUrl: 'https://hub.example.org', apiKey: 'k', localFolder: folder, intervalSeconds: 30, debounceMs: 300, ignore: [], startAtLogin: false, openWebuiUrl: '' };
    expect(await ipc['settings:save']({ ...good, intervalSeconds: 0 }, sender)).toMatchObject({ ok: false });
    expect(onSaved).not.toHaveBeenCalled();
    expect(await ipc['settings:save'](good, sender)).toEqual({ ok: true });
    expect(onSaved).toHaveBeenCalledTimes(1);
  });

  it('window:close closes the sender window; log:write goes to the log', async () => {
    const { ipc, p, sender } = setup();
    expect(await ipc['window:close'](undefined, sender)).toEqual({ ok: true });
    expect(p.closeWindow).toHaveBeenCalledWith(3);
    await ipc['log:write']({ level: 'warn', message: 'hello' }, sender);
    expect(p.log).toHaveBeenCalledWith('warn', '[renderer] hello');
    expect(await ipc['settings:pick-folder']({ current: '/x' }, sender)).toEqual({ path: '/picked' });
    expect(p.pickFolder).toHaveBeenCalledWith('/x');
  });
});

describe('quitting', () => {
  it('waits for the engine to stop', async () => {
    const { ctl, engine } = setup();
    ctl.attach({ engine, localFolder: '/f' });
    expect(await ctl.shutdown(1000)).toBe('stopped');
    expect(engine.stop).toHaveBeenCalledTimes(1);
    expect(await ctl.shutdown(1000)).toBe('no-engine');
  });

  it('gives up on an engine that does not stop in time', async () => {
    vi.useFakeTimers();
    const never = { stop: vi.fn(() => new Promise<void>(() => {})) };
    const result = stopWithTimeout(never, 10_000);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await result).toBe('timed-out');
  });
});

describe('the real engine behind the factory', () => {
  it('plugs into the shell through SyncEngineApi and stops cleanly when never started', async () => {
    const { createEngine } = await import('../../app/main/engine-factory.ts');
    const { ClientConfigSchema } = await import('../../app/sync/config.ts');
    const { SyncEngine } = await import('../../app/sync/engine.ts');
    const folder = join(dir, 'YouLab');
    await mkdir(folder);
    const config = ClientConfigSchema.parse({ server: { url: 'http://127.0.0.1:9' }, sync: { local_folder: folder, device: 'test' } });
    const engine = await createEngine({ config, apiKey: 'k' });
    expect(engine).toBeInstanceOf(SyncEngine);
    const { ctl, trays } = setup();
    ctl.setTrayContext({ localFolder: folder });
    ctl.attach({ engine, localFolder: folder });
    expect(trays.at(-1)!.icon).toBe('idle');
    expect(await ctl.shutdown(5000)).toBe('stopped');
  });
});
