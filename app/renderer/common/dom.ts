// Tiny DOM helpers: build elements without innerHTML (so file names can never become markup).
type Attrs = Record<string, string | boolean | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Array<Node | string | undefined | false>
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'class') el.className = String(v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== undefined && c !== false) el.append(c);
  return el;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing`);
  return el as T;
}

/** Announces text in an aria-live region (re-set so repeated messages are read again). */
export function announce(region: HTMLElement, text: string, tone: '' | 'ok' | 'fail' = ''): void {
  region.textContent = '';
  region.className = `status ${tone}`.trim();
  region.textContent = text;
}

export { formatBytes } from '../../../shared/format-bytes.ts';

export function formatTime(iso: string, short = false): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return short
    ? d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' })
    : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function errorText(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  // Electron prefixes rejected invokes with "Error invoking remote method '<channel>': Error: ".
  return msg.replace(/^Error invoking remote method '[^']+': (\w*Error: )?/, '');
}
