// Main's side of history and trash (issue 15), with `electron` out of the picture: the IPC
// handlers call the engine's history API and answer in the contract's shapes (text preview or
// none, errors as messages), the guard's "Bring them back" runs restoreDeleted, the tray's
// "Recent files" open each file's Version history, and "Deleted files…" opens its window.
import { describe, expect, it, vi } from 'vitest';
import type { ActivityEntry, DeletedList, HistoryApi, RoundSummary, SyncEngineApi } from '../../app/engine-api/types.ts';
import { recentFiles } from '../../app/main/controller.ts';
import { historyHandlers, type HistoryPorts } from '../../app/main/history-handlers.ts';
import type { SenderInfo } from '../../app/main/ipc-router.ts';
import { createIpcRouter, isOwnPageUrl } from '../../app/main/ipc-router.ts';
import { menuTemplate } from '../../app/main/tray.ts';
import { trayView, type MenuEntry } from '../../app/main/tray-state.ts';
import { invokeContract } from '../../app/ipc/contract.ts';

// tray.ts imports Electron; menuTemplate itself uses none of it.
vi.mock('electron', () => ({ Menu: {}, nativeImage: {}, Tray: class {} }));

const ROUND: RoundSummary = { uploaded: 1, downloaded: 40, deleted: 0, conflicts: 0, failed: 0, converged: true };
const sender: SenderInfo = { url: 'file:///app/dist/renderer/history.html?path=a.md', webContentsId: 7 };

function fakeEngine(history: Partial<HistoryApi> = {}) {
  const h: HistoryApi = {
    listVersions: vi.fn(async () => [{ id: '1764238500000-0a1b2c3d', hash: 'sha256:' + '1'.repeat(64), size: 3, kept_at: '2026-11-27T10:15:00.000Z', reason: 'overwrite' as const, origin: 'agent' }]),
    versionHead: vi.fn(async () => ({ bytes: new TextEncoder().encode('hello\n'), truncated: false })),
    restoreVersion: vi.fn(async (path: string) => ({ path, hash: 'sha256:' + '2'.repeat(64), size: 6 })),
    listDeleted: vi.fn(async (): Promise<DeletedList> => ({ entries: [] })),
    restoreFromTrash: vi.fn(async () => ({ path: 'notes/old.txt' })),
    ...history,
  };
  return { restoreDeleted: vi.fn(async () => ROUND), history: h } as unknown as SyncEngineApi & { restoreDeleted: ReturnType<typeof vi.fn> };
}

function ports(engine: SyncEngineApi | undefined): HistoryPorts & { opened: string[] } {
  const opened: string[] = [];
  return {
    opened,
    engine: () => engine,
    openHistory: (p) => opened.push(`history:${p}`),
    openDeleted: () => opened.push('deleted'),
    log: vi.fn(),
  };
}

describe('history IPC handlers', () => {
  it('list, preview as text, and restore through the engine, in the contract\'s shapes', async () => {
    const engine = fakeEngine();
    const h = historyHandlers(ports(engine));
    const v = await h['history:versions']({ path: 'a.md' }, sender);
    expect(v.versions[0]).toMatchObject({ origin: 'agent', reason: 'overwrite' });
    expect(await h['history:preview']({ path: 'a.md', versionId: '1764238500000-0a1b2c3d' }, sender)).toEqual({ text: true, content: 'hello\n', truncated: false });
    expect(engine.history.versionHead).toHaveBeenCalledWith('a.md', '1764238500000-0a1b2c3d', 64 * 1024);
    expect(await h['history:restore']({ path: 'a.md', versionId: '1764238500000-0a1b2c3d' }, sender)).toEqual({ ok: true, message: 'a.md restored; it syncs to this folder now' });
    for (const ch of ['history:versions', 'history:preview', 'history:restore'] as const) {
      expect(invokeContract[ch].response.safeParse(await h[ch]({ path: 'a.md', versionId: '1764238500000-0a1b2c3d' }, sender)).success).toBe(true);
    }
  });

  it('a binary version has no text; a cut multi-byte character at the cap is still text', async () => {
    const bin = historyHandlers(ports(fakeEngine({ versionHead: async () => ({ bytes: new Uint8Array([0x89, 0x50, 0, 1]), truncated: false }) })));
    expect(await bin['history:preview']({ path: 'p.png', versionId: 'x' }, sender)).toEqual({ text: false, truncated: false });
    const cut = historyHandlers(ports(fakeEngine({ versionHead: async () => ({ bytes: new Uint8Array([0x61, 0xc3]), truncated: true }) })));
    expect(await cut['history:preview']({ path: 'a.md', versionId: 'x' }, sender)).toEqual({ text: true, content: 'a', truncated: true });
  });

  it('restores from the hub or the trash by source; failures become messages, never throws', async () => {
    const engine = fakeEngine({ restoreVersion: vi.fn(async () => Promise.reject(new Error('quota exceeded (507)'))) });
    const h = historyHandlers(ports(engine));
    expect(await h['deleted:restore']({ source: 'hub', id: '1764238500000-0a1b2c3d', path: 'gone.md' }, sender)).toEqual({ ok: false, message: 'quota exceeded (507)' });
    expect(await h['deleted:restore']({ source: 'trash', id: 'batch/notes/old.txt', path: 'notes/old.txt' }, sender)).toEqual({ ok: true, message: 'notes/old.txt put back into the folder' });
    expect(engine.history.restoreFromTrash).toHaveBeenCalledWith('batch/notes/old.txt');
  });

  it('"Bring them back" runs restoreDeleted and counts both directions', async () => {
    const engine = fakeEngine();
    const h = historyHandlers(ports(engine));
    expect(await h['sync:restore-deleted'](undefined, sender)).toEqual({ ok: true, message: '41 files brought back' });
    expect(engine.restoreDeleted).toHaveBeenCalledTimes(1);
    engine.restoreDeleted.mockRejectedValueOnce(new Error('the local folder is missing'));
    expect(await h['sync:restore-deleted'](undefined, sender)).toEqual({ ok: false, message: 'the local folder is missing' });
  });

  it('without a running engine: actions say so, the list says why it is empty, versions reject', async () => {
    const h = historyHandlers(ports(undefined));
    expect((await h['sync:restore-deleted'](undefined, sender)).ok).toBe(false);
    expect(await h['deleted:list'](undefined, sender)).toMatchObject({ entries: [], hubError: expect.stringMatching(/not running/) });
    await expect(h['history:versions']({ path: 'a.md' }, sender)).rejects.toThrow(/not running/);
  });

  it('open the windows; the router refuses bad requests before a handler runs', async () => {
    const p = ports(fakeEngine());
    const h = historyHandlers(p);
    await h['history:open']({ path: 'notes/plan.md' }, sender);
    await h['deleted:open'](undefined, sender);
    expect(p.opened).toEqual(['history:notes/plan.md', 'deleted']);
    // The history window carries its file in the query; it is still one of our pages.
    expect(isOwnPageUrl('file:///app/dist/renderer/history.html?path=notes%2Fplan.md', '/app/dist/renderer')).toBe(true);
    const router = createIpcRouter(h as never, () => true);
    await expect(router.dispatch('history:open', sender, { path: '' })).rejects.toThrow(/refused/);
    await expect(router.dispatch('history:preview', sender, { path: 'a.md', versionId: 'x'.repeat(65) })).rejects.toThrow(/refused/);
    await expect(router.dispatch('deleted:restore', sender, { source: 'elsewhere', id: 'x', path: 'a' })).rejects.toThrow(/refused/);
  });
});

describe('tray: Recent files and Deleted files', () => {
  const at = (m: number) => `2026-11-27T10:${String(m).padStart(2, '0')}:00.000Z`;
  const act = (path: string, m: number, outcome: ActivityEntry['outcome'] = 'ok'): ActivityEntry => ({ at: at(m), path, direction: 'up', outcome });

  it('recent files are the last files moved, newest first, each once, failures left out', () => {
    expect(recentFiles([act('a.md', 1), act('b.md', 3), act('a.md', 5), act('c.md', 6, 'failed')])).toEqual(['a.md', 'b.md']);
    expect(recentFiles(Array.from({ length: 20 }, (_, i) => act(`f${i}.md`, i)))).toHaveLength(8);
  });

  it('each recent file opens its Version history; Deleted files… has its own action', () => {
    const status = { phase: 'idle' as const, pending: 0, conflicts: [], issues: [] };
    const view = trayView(status, { localFolder: '/f', recentFiles: ['notes/plan.md'] });
    const sub = view.menu.find((e): e is Extract<MenuEntry, { kind: 'submenu' }> => e.kind === 'submenu')!;
    expect(sub.label).toBe('Recent files');
    const onAction = vi.fn();
    const template = menuTemplate(view.menu, onAction);
    const recent = template.find((t) => t.label === 'Recent files')!;
    const entry = (recent.submenu as Electron.MenuItemConstructorOptions[])[0]!;
    expect(entry.label).toBe('notes/plan.md: Version history…');
    (entry.click as () => void)();
    expect(onAction).toHaveBeenCalledWith('history', 'notes/plan.md');
    (template.find((t) => t.id === 'deleted-files')!.click as () => void)();
    expect(onAction).toHaveBeenLastCalledWith('deleted-files');
    const empty = menuTemplate(trayView(status, { localFolder: '/f' }).menu, onAction).find((t) => t.label === 'Recent files')!;
    expect((empty.submenu as Electron.MenuItemConstructorOptions[])[0]).toMatchObject({ label: 'No files synced yet', enabled: false });
  });
});
