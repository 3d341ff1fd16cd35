// The shell wired to real engines and the real hub process: "Test connection" asks the hub who
// the key belongs to, and a conflict found by a real round is listed, previewed and resolved
// through the same IPC handlers the conflict dialog calls, and the choice reaches the hub at once.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ShellController, type ShellPorts } from '../../app/main/controller.ts';
import { desktopPrefsPath } from '../../app/main/desktop-prefs.ts';
import { probeHub } from '../../app/main/hub-probe.ts';
import type { SenderInfo } from '../../app/main/ipc-router.ts';
import { SettingsService } from '../../app/main/settings-service.ts';
import { SyncEngine } from '../../app/sync/engine.ts';
import { createMemoryKeychain } from '../../app/sync/keychain.ts';
import { startHub, type HubHandle } from '../helpers/hub.ts';

let hub: HubHandle;
let key: string;
let dir: string;
const engines: SyncEngine[] = [];

beforeAll(async () => {
  hub = await startHub();
  key = await hub.createKey('ada');
  dir = await mkdtemp(join(tmpdir(), 'youlab-main-shell-hub-'));
});
afterAll(async () => {
  await Promise.all(engines.map((e) => e.stop()));
  await hub?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function engine(name: string): Promise<{ engine: SyncEngine; folder: string }> {
  const folder = join(dir, name);
  await mkdir(folder, { recursive: true });
  const e = new SyncEngine({ serverUrl: hub.url, apiKey: key, folder, stateDir: join(dir, `${name}-state`), device: name, live: false });
  engines.push(e);
  return { engine: e, folder };
}

function controller(): ShellController {
  const ports: ShellPorts = {
    renderTray: () => {},
    notify: vi.fn(),
    openWindow: () => {},
    closeWindow: () => true,
    broadcast: () => {},
    openPath: async () => '',
    openExternal: async () => {},
    pickFolder: async () => null,
    log: () => {},
    quit: () => {},
  };
  const configPath = join(dir, 'config.yaml');
  const settings = new SettingsService({ configPath, prefsPath: desktopPrefsPath(configPath), secrets: createMemoryKeychain(), setStartAtLogin: () => {} });
  return new ShellController({ ports, settings, storedKey: async () => undefined, probe: probeHub, logFile: join(dir, 'main.log') });
}

const sender: SenderInfo = { url: 'file:///app/dist/renderer/conflicts.html', webContentsId: 1 };

describe('Test connection against the hub', () => {
  it('names the user for a good key and quotes the hub for a bad one', async () => {
    const ipc = controller().ipcHandlers(async () => {});
    expect(await ipc['settings:test-connection']({ serverUrl: hub.url, apiKey: key }, sender)).toEqual({ ok: true, userId: 'ada' });
    const bad = await ipc['settings:test-connection']({ serverUrl: hub.url, apiKey: key.slice(0, -4) + 'AAAA' }, sender);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.message).toMatch(/^The hub rejected this API key \(HTTP 401\)/);
    const down = await ipc['settings:test-connection']({ serverUrl: 'http://127.0.0.1:9', apiKey: key }, sender);
    expect(down.ok).toBe(false);
  });
});

describe('conflict dialog on real engines', () => {
  it('lists, previews and resolves a real conflict, and the choice syncs at once', async () => {
    const a = await engine('desk');
    const b = await engine('laptop');
    await writeFile(join(a.folder, 'plan.md'), 'v1\n');
    await a.engine.syncNow();
    await b.engine.syncNow();
    expect(await readFile(join(b.folder, 'plan.md'), 'utf8')).toBe('v1\n');

    await writeFile(join(a.folder, 'plan.md'), 'desk edit\n');
    await writeFile(join(b.folder, 'plan.md'), 'laptop edit\n');
    await a.engine.syncNow();
    await b.engine.syncNow();

    const ctl = controller();
    ctl.attach({ engine: b.engine, localFolder: b.folder });
    const ipc = ctl.ipcHandlers(async () => {});
    const conflicts = await ipc['conflicts:list'](undefined, sender);
    expect(conflicts.map((c) => c.path)).toEqual(['plan.md']);
    expect(conflicts[0]!.device).toBe('laptop');
    expect(await ipc['conflicts:preview']({ path: 'plan.md' }, sender)).toEqual({ text: true, mine: 'laptop edit\n', theirs: 'desk edit\n', truncated: false });

    expect(await ipc['conflicts:resolve']({ paths: ['plan.md'], keep: 'mine' }, sender)).toEqual({ resolved: ['plan.md'], failed: [] });
    // The controller started a round itself; wait for the hub to hold "mine", then the other device gets it.
    await vi.waitFor(
      async () => {
        await a.engine.syncNow();
        expect(await readFile(join(a.folder, 'plan.md'), 'utf8')).toBe('laptop edit\n');
      },
      { timeout: 20_000, interval: 300 },
    );
    expect(await ipc['conflicts:list'](undefined, sender)).toEqual([]);
    ctl.detach();
  });
});
