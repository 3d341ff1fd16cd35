// Conflict dialog: every open conflict with both versions side by side and Keep mine / Keep
// theirs / Keep both, per file or for all. Main resolves through the engine and syncs at once.
import type { ConflictInfo, Resolution } from '../engine-api/types.ts';
import type { ConflictPreview } from '../ipc/contract.ts';
import { bridge } from './common/bridge.ts';
import { historyButton, installHistoryLinks } from './history-links.ts';
import { announce, byId, errorText, formatBytes, formatTime, h } from './common/dom.ts';

const api = bridge();
const list = byId('list');
const status = byId('status');
const summary = byId('summary');
const allActions = byId('all-actions');
let conflicts: ConflictInfo[] = [];

const KEEP_TEXT: Record<Resolution, string> = {
  mine: 'Kept your version of',
  theirs: 'Kept the hub’s version of',
  both: 'Kept both versions of',
};

/** Marks lines that the other side does not have, so the difference stands out. */
function previewBlock(text: string, other: string | undefined, label: string): HTMLElement {
  const otherLines = new Set((other ?? '').split('\n'));
  const pre = h('pre', { class: 'preview', tabindex: '0', 'aria-label': label });
  for (const line of text.split('\n')) {
    const span = h('span', otherLines.has(line) ? {} : { class: 'diff' }, line + '\n');
    pre.append(span);
  }
  return pre;
}

function versionCard(title: string, v: ConflictInfo['mine'], from: string, body: HTMLElement): HTMLElement {
  return h(
    'section',
    { class: 'version' },
    h('h3', {}, title),
    h(
      'dl',
      {},
      h('dt', {}, 'Size'),
      h('dd', {}, formatBytes(v.size)),
      h('dt', {}, 'Modified'),
      h('dd', {}, formatTime(v.modified)),
      h('dt', {}, 'From'),
      h('dd', {}, from),
    ),
    body,
  );
}

function renderConflict(c: ConflictInfo, index: number, preview: ConflictPreview | undefined): HTMLElement {
  const id = `conflict-${index}`;
  const noPreview = (why: string) => h('p', { class: 'no-preview' }, why);
  const why = !preview ? 'Loading preview…' : preview.text ? '' : 'No text preview (binary or unreadable file).';
  const mineBody = preview?.text && preview.mine !== undefined ? previewBlock(preview.mine, preview.theirs, `Your version of ${c.path}`) : noPreview(why || 'File not found.');
  const theirsBody = preview?.text && preview.theirs !== undefined ? previewBlock(preview.theirs, preview.mine, `Hub version of ${c.path}`) : noPreview(why || 'File not found.');
  const actions = h(
    'div',
    { class: 'actions', role: 'group', 'aria-label': `Resolve ${c.path}` },
    h('button', { type: 'button', 'data-keep': 'mine', 'data-path': c.path }, 'Keep mine'),
    h('button', { type: 'button', 'data-keep': 'theirs', 'data-path': c.path }, 'Keep theirs'),
    h('button', { type: 'button', 'data-keep': 'both', 'data-path': c.path, class: 'primary' }, 'Keep both'),
    historyButton(c.path),
  );
  return h(
    'article',
    { class: 'panel conflict', 'aria-labelledby': `${id}-title`, 'data-path': c.path },
    h('h2', { id: `${id}-title`, tabindex: '-1' }, c.path),
    h(
      'div',
      { class: 'versions' },
      versionCard('Mine (this device)', c.mine, c.device || 'this device', mineBody),
      versionCard('Theirs (on the hub)', c.theirs, 'the hub (its current version)', theirsBody),
    ),
    preview?.truncated ? h('p', { class: 'hint' }, 'Preview shows the beginning of the file only.') : undefined,
    actions,
  );
}

function renderSummary(): void {
  const n = conflicts.length;
  allActions.hidden = n < 2;
  summary.textContent =
    n === 0
      ? 'No conflicts. Everything is in sync.'
      : `${n === 1 ? 'This file was' : `These ${n} files were`} changed on this device and elsewhere before they could sync. Choose which version to keep; “Keep both” keeps yours as a conflict copy next to the hub’s.`;
  if (n === 0) list.replaceChildren(h('p', { class: 'empty' }, 'Nothing to resolve.'));
}

async function render(): Promise<void> {
  conflicts = await api.invoke('conflicts:list');
  list.replaceChildren(...conflicts.map((c, i) => renderConflict(c, i, undefined)));
  renderSummary();
  document.body.dataset.ready = 'true';
  await Promise.all(
    conflicts.map(async (c, i) => {
      const preview = await api.invoke('conflicts:preview', { path: c.path }).catch(() => ({ text: false, truncated: false })); // no preview (file gone, binary): the card says so instead
      const old = list.querySelector(`article[data-path="${CSS.escape(c.path)}"]`);
      // Keep keyboard focus where it was when a card is replaced by its loaded version.
      const focusedKeep = old?.contains(document.activeElement) ? (document.activeElement as HTMLElement).dataset.keep : undefined;
      const card = renderConflict(c, i, preview);
      old?.replaceWith(card);
      if (focusedKeep) card.querySelector<HTMLElement>(`button[data-keep="${focusedKeep}"]`)?.focus();
    }),
  );
  document.body.dataset.previews = 'true';
}

async function resolve(paths: string[], keep: Resolution): Promise<void> {
  const buttons = [...document.querySelectorAll<HTMLButtonElement>('button[data-keep]')];
  buttons.forEach((b) => (b.disabled = true));
  announce(status, 'Resolving…');
  try {
    const r = await api.invoke('conflicts:resolve', { paths, keep });
    const done = new Set(r.resolved);
    const firstIndex = conflicts.findIndex((c) => done.has(c.path));
    conflicts = conflicts.filter((c) => !done.has(c.path));
    for (const p of r.resolved) list.querySelector(`article[data-path="${CSS.escape(p)}"]`)?.remove();
    renderSummary();
    const what = r.resolved.length === 1 ? r.resolved[0] : `${r.resolved.length} files`;
    let msg = r.resolved.length ? `${KEEP_TEXT[keep]} ${what}. Syncing now.` : '';
    if (r.failed.length) msg += ` ${r.failed.map((f) => `${f.path}: ${f.message}`).join('; ')}`;
    announce(status, msg.trim(), r.failed.length ? 'fail' : 'ok');
    // Focus moves to the next conflict (or the summary) so keyboard users continue where they were.
    const next = list.querySelectorAll<HTMLElement>('article h2')[Math.max(0, firstIndex)] ?? list.querySelector<HTMLElement>('article h2');
    if (next) next.focus();
    else {
      summary.setAttribute('tabindex', '-1');
      summary.focus();
    }
  } catch (e) {
    announce(status, `Could not resolve: ${errorText(e)}`, 'fail');
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
}

document.addEventListener('click', (e) => {
  const btn = (e.target as HTMLElement).closest<HTMLButtonElement>('button[data-keep]');
  if (!btn) return;
  const keep = btn.dataset.keep as Resolution;
  const paths = btn.hasAttribute('data-all') ? conflicts.map((c) => c.path) : [btn.dataset.path!];
  if (paths.length) void resolve(paths, keep);
});
installHistoryLinks(api);
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') void api.invoke('window:close');
});
api.on('status:changed', (s) => {
  // New conflicts while the dialog is open: show them too.
  const known = new Set(conflicts.map((c) => c.path));
  if (s.conflicts.some((c) => !known.has(c.path))) void render();
});

render().catch((e: unknown) => announce(status, `Could not load conflicts: ${errorText(e)}`, 'fail'));
