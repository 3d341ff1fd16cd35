// The tray as a function of engine status: icon, one-line tooltip and menu for each state.
import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../shared/format-bytes.ts';
import { TOOLTIP_MAX, trayIcon, trayView, type MenuEntry } from '../../app/main/tray-state.ts';
import type { ConflictInfo, EngineStatus } from '../../app/engine-api/types.ts';

const base: EngineStatus = { phase: 'idle', pending: 0, conflicts: [], issues: [] };
const conflict = (path: string): ConflictInfo => ({
  path,
  copyPath: `${path} (conflict laptop 2026-11-27 101500)`,
  device: 'laptop',
  detectedAt: '2026-11-27T10:15:00Z',
  mine: { size: 1, modified: '2026-11-27T10:00:00Z', hash: 'sha256:' + 'a'.repeat(64) },
  theirs: { size: 2, modified: '2026-11-27T10:10:00Z', hash: 'sha256:' + 'b'.repeat(64) },
});
const ctx = { localFolder: '/home/ada/YouLab' };

function items(menu: MenuEntry[]) {
  return menu.filter((e): e is Extract<MenuEntry, { kind: 'item' }> => e.kind === 'item');
}
function item(menu: MenuEntry[], action: string) {
  const found = items(menu).find((e) => e.action === action);
  if (!found) throw new Error(`no ${action} in menu`);
  return found;
}

describe('tray icon per engine state', () => {
  it.each([
    ['idle', 'idle'],
    ['scanning', 'syncing'],
    ['syncing', 'syncing'],
    ['paused', 'paused'],
    ['stopped', 'paused'],
    ['offline', 'offline'],
    ['error', 'error'],
  ] as const)('%s -> %s', (phase, icon) => {
    expect(trayIcon({ ...base, phase })).toBe(icon);
  });

  it('open conflicts outrank every state but an error', () => {
    for (const phase of ['idle', 'syncing', 'paused', 'offline'] as const) {
      expect(trayIcon({ ...base, phase, conflicts: [conflict('a.md')] })).toBe('conflicts');
    }
    expect(trayIcon({ ...base, phase: 'error', conflicts: [conflict('a.md')] })).toBe('error');
  });
});

describe('tooltip', () => {
  it('says up to date, and counts files that could not sync', () => {
    expect(trayView(base, ctx).tooltip).toBe('YouLab Sync: Up to date');
    const s: EngineStatus = { ...base, issues: [{ code: 'too_large', message: 'x is 20 MB', path: 'x' }] };
    expect(trayView(s, ctx).tooltip).toBe('YouLab Sync: Up to date · 1 file not synced');
  });

  it('shows files and bytes during a long sync', () => {
    const s: EngineStatus = {
      ...base,
      phase: 'syncing',
      pending: 12,
      progress: { filesDone: 3, filesTotal: 12, bytesDone: 1_572_864, bytesTotal: 52_428_800 },
    };
    expect(trayView(s, ctx).tooltip).toBe('YouLab Sync: Syncing 3 of 12 files (1.5 MB of 50 MB)');
  });

  it('shows the pending count when no progress is known yet, and as the tray title', () => {
    const v = trayView({ ...base, phase: 'syncing', pending: 4 }, ctx);
    expect(v.tooltip).toBe('YouLab Sync: Syncing 4 files');
    expect(v.title).toBe('4');
    expect(trayView({ ...base, phase: 'idle', pending: 4 }, ctx).title).toBe('');
  });

  it('names the first problem when the engine needs the user', () => {
    const s: EngineStatus = { ...base, phase: 'error', issues: [{ code: 'auth', message: 'The hub rejected the API key' }] };
    expect(trayView(s, ctx).tooltip).toBe('YouLab Sync: Needs attention: The hub rejected the API key');
  });

  it('mentions conflicts, offline and paused states', () => {
    expect(trayView({ ...base, conflicts: [conflict('a'), conflict('b')] }, ctx).tooltip).toBe('YouLab Sync: Up to date · 2 conflicts to resolve');
    expect(trayView({ ...base, phase: 'offline' }, ctx).tooltip).toBe('YouLab Sync: Offline · reconnecting…');
    expect(trayView({ ...base, phase: 'paused', pending: 1 }, ctx).tooltip).toBe('YouLab Sync: Paused · 1 change waiting');
  });

  it('stays within the 127 characters Windows shows', () => {
    const s: EngineStatus = { ...base, phase: 'error', issues: [{ code: 'internal', message: 'x'.repeat(300) }] };
    const t = trayView(s, ctx).tooltip;
    expect(t.length).toBe(TOOLTIP_MAX);
    expect(t.endsWith('…')).toBe(true);
  });

  it('points to Settings before set-up is done', () => {
    const v = trayView(base, { setupNeeded: true });
    expect(v.tooltip).toBe('YouLab Sync: Not set up yet: open Settings');
    expect(v.menu[0]).toEqual({ kind: 'status', label: 'Not set up yet: open Settings' });
    expect(item(v.menu, 'open-folder').enabled).toBe(false);
  });
});

describe('menu', () => {
  it('has every entry in order, with the status line first', () => {
    const v = trayView(base, { ...ctx, openWebuiUrl: 'https://owui.example.org' });
    expect(v.menu[0]).toEqual({ kind: 'status', label: 'Up to date' });
    expect(items(v.menu).map((i) => i.label)).toEqual([
      'Open folder',
      'Open workspace in Open WebUI',
      'Pause syncing',
      'Sync now',
      'Resolve conflicts',
      'Recent activity',
      'Deleted files…',
      'Settings…',
      'Open log',
      'Quit YouLab Sync',
    ]);
  });

  it('hides Open WebUI when it is not configured', () => {
    expect(items(trayView(base, ctx).menu).some((i) => i.action === 'open-webui')).toBe(false);
  });

  it('offers Resume instead of Pause while paused, and no Sync now', () => {
    const m = trayView({ ...base, phase: 'paused' }, ctx).menu;
    expect(item(m, 'resume').label).toBe('Resume syncing');
    expect(items(m).some((i) => i.action === 'pause')).toBe(false);
    expect(item(m, 'sync-now').enabled).toBe(false);
  });

  it('disables Sync now while a round runs', () => {
    expect(item(trayView({ ...base, phase: 'syncing' }, ctx).menu, 'sync-now').enabled).toBe(false);
    expect(item(trayView({ ...base, phase: 'scanning' }, ctx).menu, 'sync-now').enabled).toBe(false);
    expect(item(trayView({ ...base, phase: 'offline' }, ctx).menu, 'sync-now').enabled).toBe(true);
    expect(item(trayView({ ...base, phase: 'error' }, ctx).menu, 'sync-now').enabled).toBe(true);
  });

  it('counts conflicts and enables the entry only when there are some', () => {
    expect(item(trayView(base, ctx).menu, 'resolve-conflicts')).toMatchObject({ label: 'Resolve conflicts', enabled: false });
    const m = trayView({ ...base, conflicts: [conflict('a'), conflict('b'), conflict('c')] }, ctx).menu;
    expect(item(m, 'resolve-conflicts')).toMatchObject({ label: 'Resolve conflicts (3)', enabled: true });
  });

  it('cannot pause a stopped engine; settings, log and quit are always there', () => {
    const m = trayView({ ...base, phase: 'stopped' }, ctx).menu;
    expect(item(m, 'pause').enabled).toBe(false);
    for (const a of ['settings', 'open-log', 'quit', 'activity']) expect(item(m, a).enabled).toBe(true);
  });
});

it('formats byte counts for people', () => {
  expect(formatBytes(0)).toBe('0 B');
  expect(formatBytes(1023)).toBe('1023 B');
  expect(formatBytes(1536)).toBe('1.5 KB');
  expect(formatBytes(200 * 1024 * 1024)).toBe('200 MB');
  expect(formatBytes(3 * 1024 ** 4)).toBe('3.0 TB');
});
