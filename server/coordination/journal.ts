// The change feed: a bounded in-memory journal per user with long-poll waiters.
import { randomBytes } from 'node:crypto';
import type { Change, Changes } from '../../shared/protocol.ts';
import { formatCursor, parseCursor } from './cursor.ts';

interface UserLog {
  seq: number;
  /** entries[i] has seq `firstSeq + i`. */
  firstSeq: number;
  entries: Change[];
  waiters: Set<() => void>;
}

/**
 * What the store needs from a change feed. `ChangeJournal` (below) lives in this process;
 * `RedisChangeJournal` (redis-journal.ts) is shared by every hub instance.
 */
export interface Journal {
  cursor(userId: string): string | Promise<string>;
  /**
   * `dedupe`: skip the change when the feed already holds this hash (or deletion) as the
   * path's latest state, answering false (an agent write seen by several instances).
   */
  append(userId: string, change: Change, opts?: { dedupe?: boolean }): void | boolean | Promise<boolean>;
  /**
   * `filter`: only changes it accepts are answered (the newest accepted one per path); the cursor
   * still moves past the others, so an answer may hold no changes and a newer cursor.
   */
  wait(userId: string, since: unknown, waitMs: number, signal?: AbortSignal, filter?: ChangeFilter): Promise<Changes>;
  /** Long polls pending in this process. */
  readonly waiting: number;
  close(): void | Promise<void>;
}

/** Which changes a feed reader wants (GET /changes?origin=...). */
export type ChangeFilter = (change: Change) => boolean;

/** Only the newest change per path matters to a reader; keeps the order of last appearance. */
export function newestPerPath(changes: Iterable<Change>, filter?: ChangeFilter): Change[] {
  const last = new Map<string, Change>();
  for (const ch of changes) {
    if (filter && !filter(ch)) continue;
    last.delete(ch.path);
    last.set(ch.path, ch);
  }
  return [...last.values()];
}

export interface JournalOptions {
  maxEntries?: number;
  /** Gather changes that arrive this soon after the first one into the same answer. */
  coalesceMs?: number;
  maxBatch?: number;
}

export class ChangeJournal implements Journal {
  readonly epoch = randomBytes(6).toString('hex');
  private logs = new Map<string, UserLog>();
  private closeWaiters = new Set<() => void>();
  private closed = false;
  private readonly maxEntries: number;
  private readonly coalesceMs: number;
  private readonly maxBatch: number;

  constructor(opts: JournalOptions = {}) {
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.coalesceMs = opts.coalesceMs ?? 20;
    this.maxBatch = opts.maxBatch ?? 1000;
  }

  private log(userId: string): UserLog {
    let l = this.logs.get(userId);
    if (!l) {
      l = { seq: 0, firstSeq: 1, entries: [], waiters: new Set() };
      this.logs.set(userId, l);
    }
    return l;
  }

  cursor(userId: string): string {
    return formatCursor({ epoch: this.epoch, seq: this.log(userId).seq });
  }

  get waiting(): number {
    return this.closeWaiters.size;
  }

  append(userId: string, change: Change): void {
    const l = this.log(userId);
    l.seq++;
    l.entries.push(change);
    if (l.entries.length > this.maxEntries) {
      const drop = l.entries.length - this.maxEntries;
      l.entries.splice(0, drop);
      l.firstSeq += drop;
    }
    const waiters = [...l.waiters];
    l.waiters.clear();
    for (const w of waiters) w();
  }

  /** Changes after `since`, or `reset` when `since` is not a position of this journal. */
  read(userId: string, since: unknown, filter?: ChangeFilter): Changes & { empty: boolean } {
    const l = this.log(userId);
    const c = parseCursor(since);
    if (!c || c.epoch !== this.epoch || c.seq > l.seq || c.seq < l.firstSeq - 1) {
      return { cursor: this.cursor(userId), changes: [], reset: true, empty: false };
    }
    const start = c.seq - (l.firstSeq - 1);
    const slice = l.entries.slice(start, start + this.maxBatch);
    const end = c.seq + slice.length;
    return { cursor: formatCursor({ epoch: this.epoch, seq: end }), changes: newestPerPath(slice, filter), empty: slice.length === 0 };
  }

  /** Long poll: answers at once when there is something, else waits up to `waitMs` for a change. */
  async wait(userId: string, since: unknown, waitMs: number, signal?: AbortSignal, filter?: ChangeFilter): Promise<Changes> {
    const first = this.read(userId, since, filter);
    if (!first.empty || waitMs <= 0 || this.closed || signal?.aborted) return strip(first);
    const l = this.log(userId);
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        l.waiters.delete(wake);
        this.closeWaiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const wake = (): void => {
        // Let a burst of changes (a folder copied in) arrive before answering.
        setTimeout(done, this.coalesceMs);
      };
      const timer = setTimeout(done, waitMs);
      l.waiters.add(wake);
      this.closeWaiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
    return strip(this.read(userId, since, filter));
  }

  /** Ends every pending long poll (shutdown). */
  close(): void {
    this.closed = true;
    for (const w of this.closeWaiters) w();
    this.closeWaiters.clear();
  }
}

function strip(r: Changes & { empty: boolean }): Changes {
  const { empty: _empty, ...rest } = r;
  return rest;
}
