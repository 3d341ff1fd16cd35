// Deleted files: what the hub keeps of paths the workspace no longer holds, and what this
// computer's trash holds, in one list, newest first, searchable. "Restore" puts a hub file back
// on the hub (it then syncs here) or a trash file back into the folder (it then syncs to the hub).
import type { DeletedEntry, DeletedList } from '../engine-api/types.ts';
import { bridge } from './common/bridge.ts';
import { announce, byId, errorText, formatBytes, formatTime, h } from './common/dom.ts';
import { historyButton, installHistoryLinks } from './history-links.ts';

const api = bridge();
let list: DeletedList = { entries: [] };
const restored = new Set<string>();

const keyOf = (e: DeletedEntry) => `${e.source}:${e.id}`;

function keptBy(e: DeletedEntry): HTMLElement {
  if (e.source === 'trash') return h('td', {}, 'This computer’s trash');
  const more = e.versions && e.versions > 1 ? `${e.versions} versions` : undefined;
  const detail = [e.origin ? `deleted by ${e.origin}` : undefined, more].filter(Boolean).join(' · ');
  return h('td', {}, 'The hub', detail ? h('div', { class: 'hint' }, detail) : undefined);
}

function row(e: DeletedEntry): HTMLElement {
  const done = restored.has(keyOf(e));
  return h(
    'tr',
    { 'data-source': e.source },
    h('td', { class: 'time' }, formatTime(e.deletedAt, true)),
    h('td', { class: 'path' }, e.path),
    h('td', { class: 'size' }, formatBytes(e.size)),
    keptBy(e),
    h(
      'td',
      { class: 'row-actions' },
      h(
        'button',
        { type: 'button', 'data-restore': keyOf(e), disabled: done, 'aria-label': `Restore ${e.path} from ${e.source === 'hub' ? 'the hub' : 'the trash'}` },
        done ? 'Restored' : 'Restore',
      ),
      e.source === 'hub' ? historyButton(e.path, 'History…') : undefined,
    ),
  );
}

function matches(e: DeletedEntry, q: string): boolean {
  return q === '' || e.path.toLowerCase().includes(q);
}

function render(): void {
  const q = byId<HTMLInputElement>('search').value.trim().toLowerCase();
  const shown = list.entries.filter((e) => matches(e, q));
  byId('deleted-body').replaceChildren(...shown.map(row));
  byId('deleted').hidden = shown.length === 0;
  const empty = byId('empty');
  empty.hidden = shown.length > 0;
  empty.textContent = list.entries.length === 0 ? 'Nothing deleted in the last 30 days.' : `No deleted file matches “${q}”.`;
  const n = list.entries.length;
  byId('summary').textContent =
    `${n} deleted file${n === 1 ? '' : 's'}${q && shown.length !== n ? ` (${shown.length} shown)` : ''}: kept by the hub for 30 days, ` +
    'and in this computer’s trash. Restoring puts a file back at its place in the folder and on the hub.';
}

function renderErrors(): void {
  const banners: HTMLElement[] = [];
  if (list.hubError) banners.push(h('div', { class: 'banner warn', role: 'alert' }, `The hub’s deleted files could not be listed: ${list.hubError}`));
  if (list.trashError) banners.push(h('div', { class: 'banner warn', role: 'alert' }, `This computer’s trash could not be read: ${list.trashError}`));
  if (list.truncated) banners.push(h('div', { class: 'banner warn' }, 'The hub listed only its most recently deleted files.'));
  byId('errors').replaceChildren(...banners);
}

async function restore(btn: HTMLButtonElement, key: string): Promise<void> {
  const e = list.entries.find((x) => keyOf(x) === key);
  if (!e) return;
  btn.disabled = true;
  btn.textContent = 'Restoring…';
  try {
    const r = await api.invoke('deleted:restore', { source: e.source, id: e.id, path: e.path });
    if (r.ok) restored.add(key);
    announce(byId('status'), r.ok ? (r.message ?? `${e.path} restored`) : `Not restored: ${r.message ?? 'unknown error'}`, r.ok ? 'ok' : 'fail');
  } catch (err) {
    announce(byId('status'), `Not restored: ${errorText(err)}`, 'fail');
  }
  const done = restored.has(key);
  btn.textContent = done ? 'Restored' : 'Restore';
  btn.disabled = done;
}

async function load(): Promise<void> {
  try {
    list = await api.invoke('deleted:list');
  } catch (e) {
    list = { entries: [], hubError: errorText(e) };
  }
  renderErrors();
  render();
}

installHistoryLinks(api);
byId('search').addEventListener('input', render);
document.addEventListener('click', (e) => {
  const btn = (e.target as HTMLElement).closest<HTMLButtonElement>('button[data-restore]');
  if (btn?.dataset.restore) void restore(btn, btn.dataset.restore);
});
byId('refresh').addEventListener('click', () => void load());
byId('close').addEventListener('click', () => void api.invoke('window:close'));
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') void api.invoke('window:close');
});
void load().finally(() => {
  document.body.dataset.ready = 'true';
});
