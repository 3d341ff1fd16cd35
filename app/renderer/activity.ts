// Recent activity: the engine's state in one line, what needs the user (with what to do), and
// the last changes with their direction and outcome. Updates live while open.
import type { ActivityEntry, EngineIssue, EngineStatus } from '../engine-api/types.ts';
import { bridge } from './common/bridge.ts';
import { byId, errorText, formatBytes, formatTime, h } from './common/dom.ts';
import { guardActions, guardAdvice, installGuardPrompt } from './guard-prompt.ts';
import { historyButton, installHistoryLinks } from './history-links.ts';
import { initKbSection } from './kb-section.ts';

const MAX_ROWS = 200;
const api = bridge();
let entries: ActivityEntry[] = [];

const DIRECTION: Record<ActivityEntry['direction'], string> = {
  up: '↑ Uploaded',
  down: '↓ Downloaded',
  'local-delete': '✕ Deleted here (moved to trash)',
  'remote-delete': '✕ Deleted on the hub',
  conflict: '⚠ Conflict',
};
const OUTCOME: Record<ActivityEntry['outcome'], string> = { ok: '✓ Done', failed: '✗ Failed', skipped: '– Skipped' };

/** The engine's hint wins; these cover issues that come without one. */
const WHAT_TO_DO: Record<string, { text: string; action?: { label: string; page: 'settings' | 'conflicts' } }> = {
  auth: { text: 'The hub no longer accepts your API key. Enter a new key in Settings.', action: { label: 'Open settings', page: 'settings' } },
  folder_missing: { text: 'Reconnect the drive holding the folder, or choose the folder again in Settings.', action: { label: 'Open settings', page: 'settings' } },
  mass_delete: { text: 'Sync stopped before deleting many files. Bring them back, or delete them on the other side too if that was intended.' },
  quota: { text: 'Your workspace on the hub is full. Delete or move files out of the folder to free space.' },
  too_large: { text: 'This file is over the hub’s size limit and stays on this device only. Make it smaller or move it out of the folder.' },
  rate_limited: { text: 'The hub asked to slow down. Sync continues by itself shortly.' },
  network: { text: 'The hub cannot be reached. Sync resumes by itself when the connection is back.' },
  clash: { text: 'Two names clash (a file and a folder, or names that differ only in case). Rename one of them.' },
  bad_path: { text: 'The hub does not accept this name. Rename the file.' },
  internal: { text: 'Something went wrong. Open the log for details.' },
};

function phaseText(s: EngineStatus): string {
  const conflicts = s.conflicts.length ? ` · ${s.conflicts.length} conflict${s.conflicts.length === 1 ? '' : 's'} to resolve` : '';
  const last = s.lastSyncAt ? ` · last sync ${formatTime(s.lastSyncAt)}` : '';
  switch (s.phase) {
    case 'idle':
      return `Up to date${last}${conflicts}`;
    case 'scanning':
      return `Checking for changes…${conflicts}`;
    case 'syncing': {
      const p = s.progress;
      const detail = p && p.filesTotal ? ` ${p.filesDone} of ${p.filesTotal} files (${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)})` : '…';
      return `Syncing${detail}${conflicts}`;
    }
    case 'paused':
      return `Paused${conflicts}`;
    case 'offline':
      return `Offline, reconnecting…${last}${conflicts}`;
    case 'error':
      return `Needs attention${conflicts}`;
    default:
      return `Stopped${conflicts}`;
  }
}

function issueItem(i: EngineIssue): HTMLElement {
  const todo = WHAT_TO_DO[i.code];
  const action = todo?.action;
  return h(
    'li',
    {},
    h('div', {}, h('strong', {}, i.path ? `${i.path}: ` : ''), i.message),
    h('div', { class: 'what' }, `What to do: ${i.code === 'mass_delete' ? guardAdvice(i) : (i.hint ?? todo?.text ?? 'Open the log for details.')}`),
    action ? h('button', { type: 'button', 'data-open': action.page }, action.label) : undefined,
    i.code === 'mass_delete' ? guardActions(i) : undefined,
  );
}

function renderStatus(s: EngineStatus): void {
  byId('phase-dot').className = `dot phase-${s.phase}`;
  byId('phase-text').textContent = phaseText(s);
  const issues = [...s.issues];
  const items = issues.map(issueItem);
  if (s.conflicts.length) {
    items.unshift(
      h(
        'li',
        {},
        h('div', {}, `${s.conflicts.length} file${s.conflicts.length === 1 ? ' was' : 's were'} changed here and elsewhere.`),
        h('div', { class: 'what' }, 'What to do: choose which version to keep.'),
        h('button', { type: 'button', 'data-open': 'conflicts' }, 'Resolve conflicts'),
      ),
    );
  }
  byId('issues').replaceChildren(...items);
  byId('issues-section').hidden = items.length === 0;
}

function row(e: ActivityEntry): HTMLElement {
  return h(
    'tr',
    {},
    h('td', { class: 'time' }, formatTime(e.at, true)),
    h('td', { class: 'path' }, e.path, h('div', {}, historyButton(e.path))),
    h('td', {}, DIRECTION[e.direction] ?? e.direction),
    h('td', { class: `outcome-${e.outcome}` }, OUTCOME[e.outcome] ?? e.outcome, e.detail ? h('div', { class: 'hint' }, e.detail) : undefined),
  );
}

function renderEntries(): void {
  const newestFirst = [...entries].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0)).slice(0, MAX_ROWS);
  byId('changes-body').replaceChildren(...newestFirst.map(row));
  byId('no-changes').hidden = entries.length > 0;
  byId('changes').hidden = entries.length === 0;
}

document.addEventListener('click', (e) => {
  const btn = (e.target as HTMLElement).closest<HTMLButtonElement>('button[data-open]');
  if (btn) void api.invoke('app:open-window', { page: btn.dataset.open as 'settings' | 'conflicts' });
});
installGuardPrompt(api);
installHistoryLinks(api);
byId('open-deleted').addEventListener('click', () => void api.invoke('deleted:open'));
byId('open-log').addEventListener('click', () => void api.invoke('app:open-log'));
byId('close').addEventListener('click', () => void api.invoke('window:close'));
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') void api.invoke('window:close');
});
api.on('status:changed', renderStatus);
api.on('activity:added', (a) => {
  entries.push(a);
  renderEntries();
});

api
  .invoke('activity:get')
  .then(async (v) => {
    entries = v.entries;
    renderStatus(v.status);
    renderEntries();
    await initKbSection(api);
    document.body.dataset.ready = 'true';
  })
  .catch((e: unknown) => {
    byId('phase-text').textContent = `Could not load activity: ${errorText(e)}`;
  });
