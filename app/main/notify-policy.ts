// Which engine changes deserve a native notification, and how bursts become one notification.
// Pure (timers injected): routine syncs never notify; conflicts, auth failures, quota/size
// rejections and the mass-delete guard do, once each, coalesced over a short window.
import type { ConflictInfo, EngineIssue, EngineStatus } from '../engine-api/types.ts';

export type NoticeKind = 'conflict' | 'auth' | 'quota' | 'too_large' | 'mass_delete';

export interface NoticeEvent {
  kind: NoticeKind;
  /** Identity for de-duplication: the same conflict or issue is announced once while it lasts. */
  key: string;
  message: string;
  path?: string;
  hint?: string;
}

/** Where a click on the notification leads. */
export type NoticeTarget = 'conflicts' | 'settings' | 'activity';

export interface Notice {
  title: string;
  body: string;
  target: NoticeTarget;
  events: NoticeEvent[];
}

const NOTIFY_CODES = new Set<EngineIssue['code']>(['auth', 'quota', 'too_large', 'mass_delete']);

const conflictKey = (c: ConflictInfo) => `conflict:${c.path}:${c.copyPath}`;
const issueKey = (i: EngineIssue) => `${i.code}:${i.path ?? ''}:${i.message}`;

function conflictEvent(c: ConflictInfo): NoticeEvent {
  return { kind: 'conflict', key: conflictKey(c), path: c.path, message: `${c.path} was changed here and on ${c.device}` };
}

/**
 * Remembers what the user has already been told. A conflict or issue is announced when it first
 * appears; once it is gone from the status it may be announced again if it comes back.
 */
export class NoticeTracker {
  private current = new Set<string>();

  fromStatus(s: EngineStatus): NoticeEvent[] {
    const next = new Set<string>();
    const out: NoticeEvent[] = [];
    for (const c of s.conflicts) {
      const ev = conflictEvent(c);
      next.add(ev.key);
      if (!this.current.has(ev.key)) out.push(ev);
    }
    for (const i of s.issues) {
      if (!NOTIFY_CODES.has(i.code)) continue;
      const key = issueKey(i);
      next.add(key);
      if (!this.current.has(key)) {
        out.push({ kind: i.code as NoticeKind, key, message: i.message, ...(i.path ? { path: i.path } : {}), ...(i.hint ? { hint: i.hint } : {}) });
      }
    }
    this.current = next;
    return out;
  }

  /** The engine's 'conflict' event may arrive before the status that lists it. */
  fromConflict(c: ConflictInfo): NoticeEvent[] {
    const ev = conflictEvent(c);
    if (this.current.has(ev.key)) return [];
    this.current.add(ev.key);
    return [ev];
  }
}

const PRIORITY: NoticeKind[] = ['mass_delete', 'auth', 'conflict', 'quota', 'too_large'];
const TARGET: Record<NoticeKind, NoticeTarget> = {
  mass_delete: 'activity',
  auth: 'settings',
  conflict: 'conflicts',
  quota: 'activity',
  too_large: 'activity',
};

function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

function listNames(paths: string[], max = 3): string {
  const shown = paths.slice(0, max).map(basename).join(', ');
  return paths.length > max ? `${shown} and ${paths.length - max} more` : shown;
}

function line(kind: NoticeKind, evs: NoticeEvent[]): { title: string; body: string } {
  const n = evs.length;
  const first = evs[0]!;
  switch (kind) {
    case 'conflict':
      return n === 1
        ? { title: `Conflict in ${basename(first.path ?? '')}`, body: `${first.message}. Choose which version to keep.` }
        : { title: `${n} new conflicts`, body: `${listNames(evs.map((e) => e.path ?? ''))}. Choose which versions to keep.` };
    case 'auth':
      return { title: 'Cannot sign in to the hub', body: `${first.message}. Check the API key in Settings.` };
    case 'mass_delete':
      return { title: 'Sync stopped to protect your files', body: first.hint ? `${first.message}. ${first.hint}` : first.message };
    case 'quota':
      return { title: 'Workspace is full', body: first.hint ? `${first.message}. ${first.hint}` : first.message };
    case 'too_large':
      return n === 1
        ? { title: 'File too large to sync', body: first.message }
        : { title: `${n} files too large to sync`, body: listNames(evs.map((e) => e.path ?? e.message)) };
  }
}

/** One notification for a batch: the most urgent kind leads, the others follow as lines. */
export function summarize(events: NoticeEvent[]): Notice {
  const byKind = new Map<NoticeKind, NoticeEvent[]>();
  for (const e of events) byKind.set(e.kind, [...(byKind.get(e.kind) ?? []), e]);
  const kinds = PRIORITY.filter((k) => byKind.has(k));
  const lead = kinds[0]!;
  const head = line(lead, byKind.get(lead)!);
  const rest = kinds.slice(1).map((k) => line(k, byKind.get(k)!).title);
  return {
    title: head.title,
    body: [head.body, ...rest].join('\n'),
    target: TARGET[lead],
    events,
  };
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * Collects events for `windowMs` after the first one and then shows a single notification,
 * so a round that produces fifty conflicts raises one notification, not fifty.
 */
export class NotificationCoalescer {
  private pending: NoticeEvent[] = [];
  private timer: unknown;

  constructor(
    private readonly windowMs: number,
    private readonly show: (n: Notice) => void,
    private readonly timers: Timers = realTimers,
  ) {}

  push(events: NoticeEvent[]): void {
    if (events.length === 0) return;
    this.pending.push(...events);
    if (this.timer === undefined) this.timer = this.timers.setTimeout(() => this.flush(), this.windowMs);
  }

  flush(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.show(summarize(batch));
  }

  /** On quit: drop what has not been shown rather than flash a notification while exiting. */
  dispose(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
  }
}
