// The tray as a pure function of the engine's status: which icon, which one-line tooltip, which
// menu. tray.ts turns this model into Electron objects; tests check it without Electron.
import type { EngineStatus } from '../engine-api/types.ts';
import { formatBytes } from '../../shared/format-bytes.ts';

export type TrayIconName = 'idle' | 'syncing' | 'paused' | 'offline' | 'error' | 'conflicts';

export type TrayAction =
  | 'open-folder'
  | 'open-webui'
  | 'pause'
  | 'resume'
  | 'sync-now'
  | 'resolve-conflicts'
  | 'activity'
  | 'history'
  | 'deleted-files'
  | 'settings'
  | 'open-log'
  | 'quit';

export type MenuEntry =
  | { kind: 'status'; label: string }
  | { kind: 'separator' }
  | { kind: 'item'; action: TrayAction; label: string; enabled: boolean; path?: string }
  | { kind: 'submenu'; label: string; entries: MenuEntry[] };

export interface TrayView {
  icon: TrayIconName;
  tooltip: string;
  /** Text beside the icon where the OS supports it (macOS menu bar): the count while syncing. */
  title: string;
  menu: MenuEntry[];
}

export interface TrayContext {
  /** Local folder from the config; Open folder is disabled without it. */
  localFolder?: string;
  /** Open WebUI base URL; the menu item is shown only when set. */
  openWebuiUrl?: string;
  /** No folder or key yet: the status line points to Settings. */
  setupNeeded?: boolean;
  /** The files the engine moved last, newest first: "Recent files", each opening its version history. */
  recentFiles?: readonly string[];
  /** Files the hub's knowledge-base sync could not put into Open WebUI (kb-monitor.ts). */
  kbFailed?: number;
}

export const APP_NAME = 'YouLab Sync';
/** Windows truncates tray tooltips at 127 characters; keep ours whole on every platform. */
export const TOOLTIP_MAX = 127;

export function trayIcon(s: EngineStatus): TrayIconName {
  // What needs the user outranks what the engine is doing.
  if (s.phase === 'error') return 'error';
  if (s.conflicts.length > 0) return 'conflicts';
  switch (s.phase) {
    case 'paused':
    case 'stopped':
      return 'paused';
    case 'offline':
      return 'offline';
    case 'scanning':
    case 'syncing':
      return 'syncing';
    case 'idle':
      return 'idle';
  }
}


const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** One line that says what the app is doing, for the tooltip and the menu's status line. */
export function statusLine(s: EngineStatus): string {
  if (s.phase === 'error') {
    const first = s.issues[0];
    return first ? `Needs attention: ${first.message}` : 'Needs attention';
  }
  const conflicts = s.conflicts.length ? ` · ${plural(s.conflicts.length, 'conflict')} to resolve` : '';
  switch (s.phase) {
    case 'idle': {
      const notSynced = s.issues.filter((i) => i.code === 'too_large' || i.code === 'quota').length;
      return `Up to date${notSynced ? ` · ${plural(notSynced, 'file')} not synced` : ''}${conflicts}`;
    }
    case 'scanning':
      return `Checking for changes…${conflicts}`;
    case 'syncing': {
      const p = s.progress;
      if (p && p.filesTotal > 0) {
        const bytes = p.bytesTotal > 0 ? ` (${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)})` : '';
        return `Syncing ${p.filesDone} of ${plural(p.filesTotal, 'file')}${bytes}${conflicts}`;
      }
      return `Syncing${s.pending ? ` ${plural(s.pending, 'file')}` : '…'}${conflicts}`;
    }
    case 'paused':
      return `Paused${s.pending ? ` · ${plural(s.pending, 'change')} waiting` : ''}${conflicts}`;
    case 'offline':
      return `Offline · reconnecting…${conflicts}`;
    case 'stopped':
      return `Stopped${conflicts}`;
  }
}

export function tooltip(s: EngineStatus, kbFailed = 0): string {
  const kb = kbFailed > 0 ? ` · ${plural(kbFailed, 'knowledge-base file')} failed` : '';
  const text = `${APP_NAME}: ${statusLine(s)}${kb}`;
  return text.length <= TOOLTIP_MAX ? text : `${text.slice(0, TOOLTIP_MAX - 1)}…`;
}

export function trayMenu(s: EngineStatus, ctx: TrayContext): MenuEntry[] {
  const paused = s.phase === 'paused';
  const busy = s.phase === 'syncing' || s.phase === 'scanning';
  const stopped = s.phase === 'stopped';
  const n = s.conflicts.length;
  const item = (action: TrayAction, label: string, enabled = true): MenuEntry => ({ kind: 'item', action, label, enabled });
  const menu: MenuEntry[] = [{ kind: 'status', label: statusLine(s) }, { kind: 'separator' }];
  menu.push(item('open-folder', 'Open folder', Boolean(ctx.localFolder)));
  if (ctx.openWebuiUrl) menu.push(item('open-webui', 'Open workspace in Open WebUI'));
  menu.push({ kind: 'separator' });
  menu.push(paused ? item('resume', 'Resume syncing') : item('pause', 'Pause syncing', !stopped));
  menu.push(item('sync-now', 'Sync now', !paused && !busy && !stopped));
  menu.push(item('resolve-conflicts', n ? `Resolve conflicts (${n})` : 'Resolve conflicts', n > 0));
  menu.push(item('activity', 'Recent activity'));
  menu.push(recentFilesMenu(ctx.recentFiles ?? []));
  menu.push(item('deleted-files', 'Deleted files…', !stopped));
  menu.push({ kind: 'separator' });
  menu.push(item('settings', 'Settings…'));
  menu.push(item('open-log', 'Open log'));
  menu.push({ kind: 'separator' });
  menu.push(item('quit', `Quit ${APP_NAME}`));
  return menu;
}

/** "Recent files": each file opens its "Version history…". */
function recentFilesMenu(paths: readonly string[]): MenuEntry {
  const entries: MenuEntry[] = paths.length
    ? paths.map((p) => ({ kind: 'item', action: 'history', label: `${p}: Version history…`, enabled: true, path: p }))
    : [{ kind: 'status', label: 'No files synced yet' }];
  return { kind: 'submenu', label: 'Recent files', entries };
}

export const SETUP_LINE = 'Not set up yet: open Settings';

export function trayView(s: EngineStatus, ctx: TrayContext): TrayView {
  if (ctx.setupNeeded) {
    const menu = trayMenu(s, ctx);
    menu[0] = { kind: 'status', label: SETUP_LINE };
    return { icon: 'paused', tooltip: `${APP_NAME}: ${SETUP_LINE}`, title: '', menu };
  }
  const icon = trayIcon(s);
  const title = icon === 'syncing' && s.pending > 0 ? String(s.pending) : '';
  return { icon, tooltip: tooltip(s, ctx.kbFailed), title, menu: trayMenu(s, ctx) };
}
