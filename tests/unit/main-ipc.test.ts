// IPC: only our own pages may call, only contract channels exist, and every request is
// validated before a handler runs. The preload exposes nothing but the contract.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeEach, describe, expect, it, vi } from 'vitest';

const electron = vi.hoisted(() => ({
  contextBridge: { exposeInMainWorld: vi.fn() },
  ipcRenderer: { invoke: vi.fn(async () => 'answer'), on: vi.fn(), removeListener: vi.fn() },
}));
vi.mock('electron', () => electron);

import { INVOKE_CHANNELS, invokeContract, type InvokeChannel, type YoulabApi } from '../../app/ipc/contract.ts';
import { bindIpc } from '../../app/main/ipc.ts';
import { createIpcRouter, IpcRejectedError, isOwnPageUrl, type IpcHandlers, type SenderInfo } from '../../app/main/ipc-router.ts';

const rendererDir = join('/opt', 'YouLab Sync', 'resources', 'app', 'dist', 'renderer');
const ownUrl = pathToFileURL(join(rendererDir, 'settings.html')).href;
const ours: SenderInfo = { url: ownUrl, webContentsId: 7 };

type Mocks = Record<InvokeChannel, ReturnType<typeof vi.fn>>;

function handlers(): Mocks {
  const h: Partial<Mocks> = {};
  for (const c of INVOKE_CHANNELS) h[c] = vi.fn(async () => ({ ok: true }));
  return h as Mocks;
}

function router(h = handlers()) {
  const rejects: string[] = [];
  const r = createIpcRouter(h as unknown as IpcHandlers, (s) => s.webContentsId === 7 && isOwnPageUrl(s.url, rendererDir), (reason, channel) => rejects.push(`${reason}:${channel}`));
  return { r, h, rejects };
}

describe('isOwnPageUrl', () => {
  it('accepts our pages only', () => {
    expect(isOwnPageUrl(ownUrl, rendererDir)).toBe(true);
    expect(isOwnPageUrl(pathToFileURL(join(rendererDir, 'conflicts.html')).href + '#x', rendererDir)).toBe(true);
  });
  it.each([
    ['a web page', 'https://evil.example/settings.html'],
    ['a local server', 'http://127.0.0.1:8080/settings.html'],
    ['a data URL', 'data:text/html,<script>1</script>'],
    ['a file elsewhere', pathToFileURL('/tmp/settings.html').href],
    ['a file next to the renderer folder', pathToFileURL(join(rendererDir, '..', 'renderer-evil', 'x.html')).href],
    ['a traversal', `file://${rendererDir}/../../secrets.html`],
    ['a script, not a page', pathToFileURL(join(rendererDir, 'settings.js')).href],
    ['a remote file host', 'file://fileserver/share/settings.html'],
    ['nothing', undefined],
    ['garbage', 'not a url'],
  ])('refuses %s', (_what, url) => {
    expect(isOwnPageUrl(url, rendererDir)).toBe(false);
  });
});

describe('IPC router', () => {
  it('passes a valid request from our window to its handler', async () => {
    const { r, h } = router();
    h['conflicts:resolve'].mockResolvedValue({ resolved: ['a.md'], failed: [] });
    await expect(r.dispatch('conflicts:resolve', ours, { paths: ['a.md'], keep: 'both' })).resolves.toEqual({ resolved: ['a.md'], failed: [] });
    expect(h['conflicts:resolve']).toHaveBeenCalledWith({ paths: ['a.md'], keep: 'both' }, ours);
  });

  it('rejects unknown channels', async () => {
    const { r, h, rejects } = router();
    for (const ch of ['shell:exec', 'settings:get ', '__proto__', 'constructor', 42]) {
      await expect(r.dispatch(ch, ours, undefined)).rejects.toMatchObject({ reason: 'unknown_channel' });
    }
    expect(Object.values(h).every((fn) => fn.mock.calls.length === 0)).toBe(true);
    expect(rejects.every((x) => x.startsWith('unknown_channel'))).toBe(true);
  });

  it('rejects senders that are not our windows', async () => {
    const { r, h } = router();
    const strangers: SenderInfo[] = [
      { url: 'https://evil.example/', webContentsId: 7 },
      { url: pathToFileURL('/tmp/x.html').href, webContentsId: 7 },
      { url: ownUrl, webContentsId: 99 },
      { url: undefined, webContentsId: 7 },
    ];
    for (const s of strangers) {
      const err = await r.dispatch('settings:get', s, undefined).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IpcRejectedError);
      expect((err as IpcRejectedError).reason).toBe('untrusted_sender');
    }
    expect(h['settings:get']).not.toHaveBeenCalled();
  });

  it.each([
    ['conflicts:resolve', { paths: ['a.md'], keep: 'everything' }],
    ['conflicts:resolve', { paths: [], keep: 'mine' }],
    ['conflicts:resolve', { paths: 'a.md', keep: 'mine' }],
    ['conflicts:resolve', { paths: ['x'.repeat(5000)], keep: 'mine' }],
    ['conflicts:preview', { path: 42 }],
    ['settings:save', { serverUrl: 'https://h', localFolder: '/x' }],
    ['settings:save', 'yaml: true'],
    ['settings:get', { sneaky: true }],
    ['log:write', { level: 'debug', message: 'x' }],
    ['app:open-window', { page: 'file:///etc/passwd' }],
  ] as const)('rejects bad arguments on %s', async (channel, request) => {
    const { r, h } = router();
    await expect(r.dispatch(channel, ours, request)).rejects.toMatchObject({ reason: 'bad_request' });
    expect(h[channel]).not.toHaveBeenCalled();
  });

  it('strips unknown keys before the handler sees them', async () => {
    const { r, h } = router();
    await r.dispatch('conflicts:preview', ours, { path: 'a.md', extra: 'x' });
    expect(h['conflicts:preview']).toHaveBeenCalledWith({ path: 'a.md' }, ours);
  });
});

describe('bindIpc', () => {
  it('registers exactly the contract channels, and each goes through the router with the sender', async () => {
    const registered = new Map<string, (event: unknown, req: unknown) => unknown>();
    const ipcMain = { handle: vi.fn((c: string, fn: never) => registered.set(c, fn)), removeHandler: vi.fn() };
    const dispatch = vi.fn(async () => 'ok');
    const unbind = bindIpc(ipcMain as never, { dispatch });
    expect([...registered.keys()].sort()).toEqual(Object.keys(invokeContract).sort());
    await registered.get('status:get')!({ senderFrame: { url: ownUrl }, sender: { id: 7 } }, undefined);
    expect(dispatch).toHaveBeenCalledWith('status:get', { url: ownUrl, webContentsId: 7 }, undefined);
    unbind();
    expect(ipcMain.removeHandler).toHaveBeenCalledTimes(INVOKE_CHANNELS.length);
  });
});

describe('preload', () => {
  beforeEach(() => {
    electron.contextBridge.exposeInMainWorld.mockClear();
    electron.ipcRenderer.invoke.mockClear();
  });

  it('exposes one API under window.youlab that only forwards contract channels', async () => {
    vi.resetModules();
    await import('../../app/preload/index.ts');
    expect(electron.contextBridge.exposeInMainWorld).toHaveBeenCalledTimes(1);
    const [name, api] = electron.contextBridge.exposeInMainWorld.mock.calls[0] as unknown as [string, YoulabApi];
    expect(name).toBe('youlab');
    expect(Object.keys(api).sort()).toEqual(['invoke', 'on']);

    await expect(api.invoke('conflicts:resolve', { paths: ['a'], keep: 'mine' })).resolves.toBe('answer');
    expect(electron.ipcRenderer.invoke).toHaveBeenCalledWith('conflicts:resolve', { paths: ['a'], keep: 'mine' });

    await expect((api.invoke as (c: string) => Promise<unknown>)('shell:openExternal')).rejects.toThrow('Unknown channel');
    expect(electron.ipcRenderer.invoke).toHaveBeenCalledTimes(1);
    expect(() => (api.on as (c: string, l: () => void) => void)('ipc-internal', () => {})).toThrow('Unknown event');

    // Listeners get the payload only, never the IPC event (which would leak the sender object).
    const listener = vi.fn();
    const off = api.on('status:changed', listener);
    const wrapped = electron.ipcRenderer.on.mock.calls.at(-1)![1] as (e: unknown, p: unknown) => void;
    wrapped({ sender: 'secret' }, { phase: 'idle' });
    expect(listener).toHaveBeenCalledWith({ phase: 'idle' });
    off();
    expect(electron.ipcRenderer.removeListener).toHaveBeenCalledWith('status:changed', wrapped);
  });
});
