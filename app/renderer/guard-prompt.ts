// The mass-delete guard's question under Recent activity (docs/SYNC-SPEC.md invariant 10): the
// round stopped before deleting many files; the user brings them back from the side that still
// has them, or deletes them on that side too. Nothing is lost either way (hub versions, trash).
import type { EngineIssue } from '../engine-api/types.ts';
import type { YoulabApi } from '../ipc/contract.ts';
import { errorText, h } from './common/dom.ts';

/** What the buttons say, from where the stopped round would have deleted. */
export function guardLabels(i: EngineIssue): { back: string; del: string; doing: string } {
  const local = i.deletes?.where === 'local';
  return {
    back: 'Bring them back',
    del: local ? 'Delete them here too' : 'Delete them on the hub too',
    doing: local ? 'Putting them back on the hub…' : 'Bringing them back from the hub…',
  };
}

/** What to do, in the app's words (the engine's hint also names the command line). */
export function guardAdvice(i: EngineIssue): string {
  return i.deletes?.where === 'local'
    ? 'These files were deleted on the hub. Bring them back (this folder still has them and puts them back on the hub), or delete them here too if that was intended; they go to this computer’s trash.'
    : 'These files were deleted from this folder. Bring them back from the hub, or delete them on the hub too if you meant to; the hub keeps deleted files for 30 days.';
}

export function guardActions(i: EngineIssue): HTMLElement {
  const l = guardLabels(i);
  return h(
    'div',
    { class: 'guard', role: 'group', 'aria-label': 'What to do with the deleted files' },
    h('button', { type: 'button', class: 'primary', 'data-guard': 'restore', 'data-doing': l.doing }, l.back),
    h('button', { type: 'button', 'data-guard': 'delete', 'data-doing': 'Deleting…' }, l.del),
    h('span', { class: 'status', role: 'status', 'aria-live': 'polite' }),
  );
}

/** One listener for the guard's buttons, wherever the issue list re-renders them. */
export function installGuardPrompt(api: YoulabApi): void {
  document.addEventListener('click', (e) => {
    const btn = (e.target as HTMLElement).closest<HTMLButtonElement>('button[data-guard]');
    if (btn) void answer(api, btn);
  });
}

async function answer(api: YoulabApi, btn: HTMLButtonElement): Promise<void> {
  const group = btn.closest('.guard');
  const buttons = [...(group?.querySelectorAll<HTMLButtonElement>('button[data-guard]') ?? [])];
  const status = group?.querySelector<HTMLElement>('.status');
  buttons.forEach((b) => (b.disabled = true));
  const say = (text: string, tone: 'ok' | 'fail' | '') => {
    if (!status) return;
    status.className = `status ${tone}`.trim();
    status.textContent = text;
  };
  say(btn.dataset.doing ?? '…', '');
  try {
    const r = await api.invoke(btn.dataset.guard === 'restore' ? 'sync:restore-deleted' : 'sync:confirm-deletes');
    if (r.ok) {
      say(`Done${r.message ? `: ${r.message}` : ''}`, 'ok');
      return;
    }
    say(`Not done: ${r.message ?? 'unknown error'}`, 'fail');
  } catch (e) {
    say(`Not done: ${errorText(e)}`, 'fail');
  }
  buttons.forEach((b) => (b.disabled = false));
}
