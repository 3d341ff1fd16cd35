// The desktop app's view of the hub's knowledge-base leg: what the "Knowledge base" section of
// Recent activity shows (kb-section.ts), the tray's count of failed KB files, confirming the
// deletes the hub's guard held, and the address "Open in Open WebUI" goes to. Free of Electron:
// the hub is reached through a KbSource (HubClient in index.ts, a fake in tests).
import { kbCounts } from '../../shared/kb-advice.ts';
import type { KbStatus } from '../../shared/kb-status.ts';
import type { KbView } from '../ipc/contract.ts';
import type { IpcHandlers } from './ipc-router.ts';

export interface KbSource {
  /** The status answer with the failed and held files (counts cover every file). */
  status(): Promise<KbStatus>;
  confirmDeletes(): Promise<{ deleted: number; running: boolean; guard?: string }>;
}

/** Files of each list the section shows; the counts say how many there are in all. */
export const KB_LIST_LIMIT = 200;

export interface KbMonitorOptions {
  source: KbSource | undefined;
  /** Open WebUI's address from the settings; "Open in Open WebUI" needs it. */
  openWebuiUrl?: string | undefined;
  /** Told the number of failed KB files whenever a status arrives (the tray mentions them). */
  onFailedCount: (n: number) => void;
  now?: () => Date;
}

export class KbMonitor {
  private last: KbStatus | undefined;
  private lastAt = 0;
  private readonly now: () => Date;

  constructor(private readonly opts: KbMonitorOptions) {
    this.now = opts.now ?? (() => new Date());
  }

  /** Ask the hub now; the view says what went wrong instead of throwing. */
  async view(): Promise<KbView> {
    const url = this.opts.openWebuiUrl ? { openWebuiUrl: this.opts.openWebuiUrl } : {};
    const { source } = this.opts;
    if (!source) return { available: false, message: 'Sync is not set up yet: open Settings.', ...url };
    let status: KbStatus;
    try {
      status = await source.status();
    } catch (e) {
      return { available: false, message: `Could not ask the hub about the knowledge base: ${e instanceof Error ? e.message : String(e)}`, ...url };
    }
    this.last = status;
    this.lastAt = this.now().getTime();
    this.opts.onFailedCount(kbCounts(status).failed);
    if (!status.openwebui.configured) {
      return { available: false, message: `The hub does not sync a knowledge base: ${status.openwebui.reason ?? 'Open WebUI is not configured there'}.`, ...url };
    }
    return { available: true, status, fetchedAt: new Date(this.lastAt).toISOString(), ...url };
  }

  /** Refresh the tray's count after an engine round, at most once per `minMs`. */
  async refreshIfStale(minMs = 30_000): Promise<void> {
    if (this.now().getTime() - this.lastAt < minMs) return;
    await this.view();
  }

  async confirmDeletes(): Promise<{ ok: boolean; message?: string }> {
    const { source } = this.opts;
    if (!source) return { ok: false, message: 'Sync is not set up yet' };
    try {
      const r = await source.confirmDeletes();
      if (r.running) return { ok: true, message: 'the hub is applying the deletes' };
      if (r.guard) return { ok: false, message: `the hub still holds deletes: ${r.guard}` };
      return { ok: true, message: `${r.deleted} file${r.deleted === 1 ? '' : 's'} deleted` };
    } catch (e) {
      return { ok: false, message: e instanceof Error ? e.message : String(e) };
    }
  }

  /** The KB's page in Open WebUI (its list of knowledge bases before the id is known), or undefined without an address. */
  openWebuiTarget(): string | undefined {
    const base = this.opts.openWebuiUrl;
    if (!base) return undefined;
    const id = this.last?.knowledge_id;
    return new URL(id ? `/workspace/knowledge/${encodeURIComponent(id)}` : '/workspace/knowledge', base).href;
  }
}

type KbChannel = 'kb:status' | 'kb:confirm-deletes' | 'kb:open-webui';

/** Main's answers on the KB channels, for whichever monitor is current (none before setup). */
export function kbIpcHandlers(current: () => KbMonitor | undefined, openExternal: (url: string) => Promise<void>): Pick<IpcHandlers, KbChannel> {
  return {
    'kb:status': () => current()?.view() ?? { available: false, message: 'Sync is not set up yet: open Settings.' },
    'kb:confirm-deletes': async () => (await current()?.confirmDeletes()) ?? { ok: false, message: 'Sync is not set up yet' },
    'kb:open-webui': async () => {
      const url = current()?.openWebuiTarget();
      if (!url) return { ok: false };
      await openExternal(url);
      return { ok: true };
    },
  };
}
