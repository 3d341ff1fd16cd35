// Version history of one file (its path comes in the window's URL): the versions the hub kept
// of it, newest first, with when, size, why and by whom; a text preview of the one selected;
// "Restore" puts it back on the hub, from where it syncs to this folder like any change. The
// content it replaces is kept in turn, so a restore loses nothing.
import type { KeptVersion } from '../engine-api/types.ts';
import type { VersionPreview } from '../ipc/contract.ts';
import { bridge } from './common/bridge.ts';
import { announce, byId, errorText, formatBytes, formatTime, h } from './common/dom.ts';

const api = bridge();
const path = new URLSearchParams(location.search).get('path') ?? '';
let versions: KeptVersion[] = [];
let selected: string | undefined;

const REASON: Record<KeptVersion['reason'], string> = { overwrite: 'Replaced', delete: 'Deleted' };

function row(v: KeptVersion, i: number): HTMLElement {
  const label = `${formatTime(v.kept_at)}, ${formatBytes(v.size)}`;
  return h(
    'tr',
    { 'data-id': v.id, class: v.id === selected ? 'selected' : undefined, 'aria-selected': v.id === selected ? 'true' : 'false' },
    h('td', { class: 'time' }, formatTime(v.kept_at), i === 0 ? h('div', { class: 'hint' }, 'latest kept') : undefined),
    h('td', { class: 'size' }, formatBytes(v.size)),
    h('td', {}, REASON[v.reason] ?? v.reason),
    h('td', { class: v.origin ? '' : 'muted' }, v.origin ?? '—'),
    h(
      'td',
      { class: 'row-actions' },
      h('button', { type: 'button', 'data-preview': v.id, 'aria-label': `Preview the version of ${label}` }, 'Preview'),
      h('button', { type: 'button', 'data-restore': v.id, 'aria-label': `Restore the version of ${label}` }, 'Restore'),
    ),
  );
}

function render(): void {
  byId('versions-body').replaceChildren(...versions.map(row));
  byId('versions-section').hidden = versions.length === 0;
  byId('summary').textContent = versions.length
    ? `${versions.length} version${versions.length === 1 ? '' : 's'} kept by the hub, newest first. Restoring one puts it back on the hub and in this folder; the current content is kept as a version too.`
    : 'The hub keeps no earlier version of this file (it keeps replaced and deleted content for 30 days).';
}

function renderPreview(v: KeptVersion, p: VersionPreview): void {
  const title = `Version of ${formatTime(v.kept_at)}`;
  const body = p.text
    ? h('pre', { class: 'preview', tabindex: '0', 'aria-label': `${title}, text` }, p.content ?? '')
    : h('p', { class: 'no-preview' }, 'No preview: this version is not a text file.');
  const more = p.truncated ? [h('p', { class: 'hint' }, 'Preview shows the beginning of the file only.')] : [];
  byId('preview').replaceChildren(h('p', { class: 'hint' }, title), body, ...more);
  byId('preview-section').hidden = false;
}

async function preview(id: string): Promise<void> {
  const v = versions.find((x) => x.id === id);
  if (!v) return;
  selected = id;
  render();
  try {
    renderPreview(v, await api.invoke('history:preview', { path, versionId: id }));
  } catch (e) {
    byId('preview').replaceChildren(h('p', { class: 'no-preview' }, `No preview: ${errorText(e)}`));
    byId('preview-section').hidden = false;
  }
}

async function restore(btn: HTMLButtonElement, id: string): Promise<void> {
  const buttons = [...document.querySelectorAll<HTMLButtonElement>('button[data-restore]')];
  buttons.forEach((b) => (b.disabled = true));
  btn.textContent = 'Restoring…';
  let ok = false;
  try {
    const r = await api.invoke('history:restore', { path, versionId: id });
    ok = r.ok;
    announce(byId('status'), r.ok ? (r.message ?? 'Restored') : `Not restored: ${r.message ?? 'unknown error'}`, r.ok ? 'ok' : 'fail');
  } catch (e) {
    announce(byId('status'), `Not restored: ${errorText(e)}`, 'fail');
  }
  btn.textContent = ok ? 'Restored' : 'Restore';
  buttons.forEach((b) => (b.disabled = ok && b === btn));
}

document.addEventListener('click', (e) => {
  const target = e.target as HTMLElement;
  const p = target.closest<HTMLButtonElement>('button[data-preview]');
  if (p?.dataset.preview) void preview(p.dataset.preview);
  const r = target.closest<HTMLButtonElement>('button[data-restore]');
  if (r?.dataset.restore) void restore(r, r.dataset.restore);
});
byId('open-deleted').addEventListener('click', () => void api.invoke('deleted:open'));
byId('close').addEventListener('click', () => void api.invoke('window:close'));
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') void api.invoke('window:close');
});

async function load(): Promise<void> {
  byId('file').textContent = path || 'No file chosen';
  document.title = path ? `Version history: ${path}` : 'Version history';
  if (!path) {
    byId('summary').textContent = 'Open the history of a file from Recent activity, the conflict dialog or the tray’s Recent files.';
    return;
  }
  try {
    versions = (await api.invoke('history:versions', { path })).versions;
    render();
    if (versions[0]) await preview(versions[0].id);
  } catch (e) {
    byId('summary').textContent = '';
    const err = byId('error');
    err.textContent = `Could not load the history: ${errorText(e)}`;
    err.hidden = false;
  }
}

void load().finally(() => {
  document.body.dataset.ready = 'true';
});
