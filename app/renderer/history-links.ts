// "Version history…" wherever a file is named (Recent activity, the conflict dialog): a button
// that asks main to open the history window for that path.
import type { YoulabApi } from '../ipc/contract.ts';
import { h } from './common/dom.ts';

export function historyButton(path: string, label = 'Version history…'): HTMLButtonElement {
  return h('button', { type: 'button', class: 'link', 'data-history': path, 'aria-label': `Version history of ${path}` }, label);
}

/** One listener for every history button of the page, present and future. */
export function installHistoryLinks(api: YoulabApi): void {
  document.addEventListener('click', (e) => {
    const btn = (e.target as HTMLElement).closest<HTMLButtonElement>('button[data-history]');
    if (btn?.dataset.history) void api.invoke('history:open', { path: btn.dataset.history });
  });
}
