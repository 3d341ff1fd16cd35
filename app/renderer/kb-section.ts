// The "Knowledge base" section of Recent activity: how the hub's sync of the workspace into
// Open WebUI stands (counts, last round), the files Open WebUI refused with its reason and what
// to do, the deletes the hub's guard holds with "Confirm the deletes", and "Open in Open WebUI"
// when that address is set. Renders the hub's own status answer (kb:status, kb-monitor.ts).
import { kbCounts, kbWhatToDo } from '../../shared/kb-advice.ts';
import type { KbFileStatus, KbStatus } from '../../shared/kb-status.ts';
import type { KbView, YoulabApi } from '../ipc/contract.ts';
import { byId, errorText, formatTime, h } from './common/dom.ts';

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

const HELD_ACTION: Record<NonNullable<KbFileStatus['action']>, string> = {
  delete_in_openwebui: 'Deleted in the workspace; still in the knowledge base',
  delete_in_workspace: 'Removed from the knowledge base; still in the workspace',
  remove_from_openwebui: 'Now ignored; still in the knowledge base',
};

function countsLine(s: KbStatus): string {
  const c = kbCounts(s);
  const parts = [`${plural(c.synced, 'file')} in the knowledge base`];
  if (c.pending) parts.push(`${c.pending} waiting`);
  if (c.processing) parts.push(`${c.processing} processing`);
  if (c.failed) parts.push(`${c.failed} failed`);
  if (c.held) parts.push(`${plural(c.held, 'delete')} held`);
  if (c.ignored) parts.push(`${c.ignored} left out by the rules`);
  return parts.join(' · ');
}

function roundLine(s: KbStatus): string {
  const r = s.last_round;
  if (s.running) return 'The hub is syncing the knowledge base now.';
  if (!r) return s.last_sync ? `Last synced ${formatTime(s.last_sync)}.` : 'Not synced yet.';
  const took = r.duration_ms < 1000 ? `${r.duration_ms} ms` : `${(r.duration_ms / 1000).toFixed(1)} s`;
  const how = r.outcome === 'failed' ? `failed: ${r.error ?? 'see the hub log'}` : r.outcome === 'guarded' ? 'deletes held back' : 'done';
  return `Last round ${formatTime(r.finished_at)}, took ${took}: ${how}.`;
}

function failedItem(f: KbFileStatus): HTMLElement {
  const retry = f.next_retry_at ? ` · failed ${plural(f.attempts ?? 1, 'time')}, next try ${formatTime(f.next_retry_at, true)}` : '';
  return h(
    'li',
    { 'data-path': f.path },
    h('div', {}, h('strong', { class: 'kb-path' }, f.path), ` — ${f.message ?? f.reason ?? 'failed'}`),
    h('div', { class: 'hint' }, `${(f.reason ?? 'error').replace(/_/g, ' ')}${f.side === 'from_openwebui' ? ' (coming from Open WebUI)' : ''}${retry}`),
    h('div', { class: 'what' }, `What to do: ${kbWhatToDo(f)}`),
  );
}

function heldItem(f: KbFileStatus): HTMLElement {
  return h(
    'li',
    { 'data-path': f.path },
    h('div', {}, h('strong', { class: 'kb-path' }, f.path), ` — ${f.action ? HELD_ACTION[f.action] : 'delete held'}${f.rule ? ` (${f.rule})` : ''}`),
  );
}

function list(id: string, title: string, files: KbFileStatus[], total: number, item: (f: KbFileStatus) => HTMLElement): HTMLElement | undefined {
  if (files.length === 0) return undefined;
  const more = total > files.length ? h('p', { class: 'hint' }, `and ${total - files.length} more (youlab-sync kb-status lists them all)`) : undefined;
  return h('div', { class: 'kb-group' }, h('h3', {}, title), h('ul', { class: 'issues kb-list', id }, ...files.map(item)), more);
}

function render(view: KbView): void {
  const body = byId('kb-body');
  const open = view.openWebuiUrl ? h('button', { type: 'button', 'data-kb-open': 'true' }, 'Open in Open WebUI') : undefined;
  if (!view.available) {
    body.replaceChildren(h('p', { class: 'hint', id: 'kb-summary' }, view.message), h('div', { class: 'kb-actions' }, open));
    return;
  }
  const s = view.status;
  const c = kbCounts(s);
  const failed = s.files.filter((f) => f.state === 'failed');
  const held = s.files.filter((f) => f.state === 'held');
  const guard = c.held
    ? h(
        'div',
        { class: 'banner warn', id: 'kb-guard' },
        h('div', {}, `The hub stopped before deleting ${plural(c.held, 'file')}: ${s.guard ?? 'too many deletes at once'}.`),
        h('div', { class: 'what' }, `What to do: ${kbWhatToDo(held[0] ?? { path: '', state: 'held' })}`),
        h('button', { type: 'button', 'data-kb-confirm': 'true' }, 'Confirm the deletes'),
      )
    : undefined;
  const parts = [
    h('p', { id: 'kb-summary' }, countsLine(s)),
    h('p', { class: 'hint', id: 'kb-round' }, roundLine(s)),
    s.last_error ? h('div', { class: 'banner danger' }, `The last round stopped: ${s.last_error}`) : undefined,
    guard,
    list('kb-failed', 'Not in the knowledge base', failed, c.failed, failedItem),
    list('kb-held', 'Deletes waiting for you', held, c.held, heldItem),
    h('div', { class: 'kb-actions' }, open, h('button', { type: 'button', 'data-kb-refresh': 'true' }, 'Refresh')),
  ];
  body.replaceChildren(...parts.filter((p): p is HTMLElement => p !== undefined));
}

async function load(api: YoulabApi): Promise<void> {
  try {
    render(await api.invoke('kb:status'));
  } catch (e) {
    render({ available: false, message: `Could not load the knowledge-base status: ${errorText(e)}` });
  }
}

async function confirmDeletes(api: YoulabApi, btn: HTMLButtonElement): Promise<void> {
  btn.disabled = true;
  btn.textContent = 'Confirming…';
  let text: string;
  try {
    const r = await api.invoke('kb:confirm-deletes');
    text = r.ok ? `Done${r.message ? `: ${r.message}` : ''}` : `Not applied: ${r.message ?? 'unknown error'}`;
  } catch (e) {
    text = `Not applied: ${errorText(e)}`;
  }
  await load(api);
  const status = h('p', { class: `status ${text.startsWith('Done') ? 'ok' : 'fail'}`, id: 'kb-confirm-result', role: 'status' }, text);
  byId('kb-body').prepend(status);
}

/** Loads the section and wires its buttons; resolves once the first answer is shown. */
export async function initKbSection(api: YoulabApi): Promise<void> {
  byId('kb-section').addEventListener('click', (e) => {
    const target = e.target as HTMLElement;
    const confirm = target.closest<HTMLButtonElement>('button[data-kb-confirm]');
    if (confirm) void confirmDeletes(api, confirm);
    if (target.closest('button[data-kb-open]')) void api.invoke('kb:open-webui');
    if (target.closest('button[data-kb-refresh]')) void load(api);
  });
  await load(api);
}
