// The change feed shared by every hub instance: per user a Redis counter (the sequence), a
// capped Redis list (the journal) and an epoch, so a cursor `<epoch>:<seq>` taken on one
// instance is valid on all of them. Appends publish on one channel; each instance wakes its
// own long polls when a message for that user arrives. Scripts keep each user's keys in one
// hash slot (`{user}`), so they also run on Redis Cluster.
//
// The epoch lives in Redis: when Redis loses its data (restart without persistence) the epoch
// is gone with the sequence, a new one is made, and clients holding old cursors list again.
import { randomBytes } from 'node:crypto';
import type { Change, Changes } from '../../shared/protocol.ts';
import { formatCursor, parseCursor } from './cursor.ts';
import { newestPerPath, type ChangeFilter, type Journal } from './journal.ts';
import type { RedisConnection, RedisReply } from './redis.ts';

// KEYS: epoch seq log known. ARGV: new-epoch path state json max dedupe channel message
const APPEND = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
  redis.call('SET', KEYS[1], ARGV[1])
end
if ARGV[6] == '1' and redis.call('HGET', KEYS[4], ARGV[2]) == ARGV[3] then return 0 end
local seq = redis.call('INCR', KEYS[2])
redis.call('RPUSH', KEYS[3], ARGV[4])
redis.call('LTRIM', KEYS[3], -tonumber(ARGV[5]), -1)
redis.call('HSET', KEYS[4], ARGV[2], ARGV[3])
redis.call('PUBLISH', ARGV[7], ARGV[8])
return seq`;

// KEYS: epoch seq log known. ARGV: new-epoch cursor-epoch since max-batch
// -> {epoch, seq, 0} (reset) or {epoch, seq, 1, {entries after since}}
const READ = `
local e = redis.call('GET', KEYS[1])
if not e then
  redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
  redis.call('SET', KEYS[1], ARGV[1])
  e = ARGV[1]
end
local seq = tonumber(redis.call('GET', KEYS[2]) or '0')
local since = tonumber(ARGV[3])
local first = seq - redis.call('LLEN', KEYS[3]) + 1
if ARGV[2] ~= e or since < 0 or since > seq or since < first - 1 then return {e, seq, 0} end
local start = since - (first - 1)
return {e, seq, 1, redis.call('LRANGE', KEYS[3], start, start + tonumber(ARGV[4]) - 1)}`;

export interface RedisJournalOptions {
  maxEntries?: number;
  coalesceMs?: number;
  maxBatch?: number;
}

type ReadResult = Changes & { empty: boolean };

export class RedisChangeJournal implements Journal {
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly closeWaiters = new Set<() => void>();
  private readonly notifyListeners = new Set<(userId: string, fromThisInstance: boolean) => void>();
  private readonly channel: string;
  private readonly maxEntries: number;
  private readonly coalesceMs: number;
  private readonly maxBatch: number;
  private closed = false;
  /** Resolves once this instance hears the feed channel. */
  readonly ready: Promise<void>;

  constructor(
    private readonly redis: RedisConnection,
    opts: RedisJournalOptions = {},
  ) {
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.coalesceMs = opts.coalesceMs ?? 20;
    this.maxBatch = opts.maxBatch ?? 1000;
    this.channel = `${redis.prefix}feed`;
    this.ready = redis.subscribe(this.channel, (m) => this.onMessage(m));
    this.ready.catch(() => {}); // the failure reaches whoever awaits `ready` (start-up); this only stops an unhandled rejection
  }

  private keys(userId: string): string[] {
    const base = `${this.redis.prefix}feed:{${userId}}`;
    return [`${base}:epoch`, `${base}:seq`, `${base}:log`, `${base}:known`];
  }

  private onMessage(message: string): void {
    const [from, userId] = message.split(' ');
    if (!userId) return;
    const set = this.waiters.get(userId);
    if (set) {
      this.waiters.delete(userId);
      for (const w of set) w();
    }
    for (const l of this.notifyListeners) l(userId, from === this.redis.instanceId);
  }

  /** Called for every change any instance appends (e.g. to drop cached per-user state). */
  onNotify(listener: (userId: string, fromThisInstance: boolean) => void): () => void {
    this.notifyListeners.add(listener);
    return () => this.notifyListeners.delete(listener);
  }

  get waiting(): number {
    return this.closeWaiters.size;
  }

  async cursor(userId: string): Promise<string> {
    return (await this.read(userId, undefined)).cursor;
  }

  async append(userId: string, change: Change, opts: { dedupe?: boolean } = {}): Promise<boolean> {
    const seq = await this.redis.eval(APPEND, this.keys(userId), [
      newEpoch(),
      change.path,
      change.hash ?? '-',
      JSON.stringify(change),
      String(this.maxEntries),
      opts.dedupe ? '1' : '0',
      this.channel,
      `${this.redis.instanceId} ${userId}`,
    ]);
    return seq !== 0;
  }

  async read(userId: string, since: unknown, filter?: ChangeFilter): Promise<ReadResult> {
    const c = parseCursor(since);
    const r = (await this.redis.eval(READ, this.keys(userId), [newEpoch(), c?.epoch ?? '', String(c?.seq ?? -1), String(this.maxBatch)])) as RedisReply[];
    const epoch = String(r[0]);
    const seq = Number(r[1]);
    if (Number(r[2]) !== 1 || !c) return { cursor: formatCursor({ epoch, seq }), changes: [], reset: true, empty: false };
    const raw = (r[3] as string[] | undefined) ?? [];
    const changes = newestPerPath(
      raw.map((s) => JSON.parse(s) as Change),
      filter,
    );
    return { cursor: formatCursor({ epoch, seq: c.seq + raw.length }), changes, empty: raw.length === 0 };
  }

  async wait(userId: string, since: unknown, waitMs: number, signal?: AbortSignal, filter?: ChangeFilter): Promise<Changes> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      // Listen before reading, so a change appended between the read and the wait still wakes us.
      let woken = false;
      let wake!: () => void;
      const woke = new Promise<void>((r) => (wake = r));
      const onWake = (): void => {
        woken = true;
        wake();
      };
      let set = this.waiters.get(userId);
      if (!set) this.waiters.set(userId, (set = new Set()));
      set.add(onWake);
      this.closeWaiters.add(wake);
      const unlisten = (): void => {
        this.waiters.get(userId)?.delete(onWake);
        if (this.waiters.get(userId)?.size === 0) this.waiters.delete(userId);
        this.closeWaiters.delete(wake);
        signal?.removeEventListener('abort', wake);
      };
      try {
        const r = await this.read(userId, since, filter);
        const left = deadline - Date.now();
        if (!r.empty || left <= 0 || this.closed || signal?.aborted) return strip(r);
        signal?.addEventListener('abort', wake, { once: true });
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([woke, new Promise<void>((res) => (timer = setTimeout(res, left)))]);
        clearTimeout(timer);
        if (!woken) {
          unlisten();
          return strip(await this.read(userId, since, filter));
        }
      } finally {
        unlisten();
      }
      // Let a burst of changes (a folder copied in) arrive before answering.
      await new Promise((res) => setTimeout(res, this.coalesceMs));
    }
  }

  close(): void {
    this.closed = true;
    for (const w of this.closeWaiters) w();
    this.closeWaiters.clear();
  }
}

function newEpoch(): string {
  return randomBytes(6).toString('hex');
}

function strip(r: ReadResult): Changes {
  const { empty: _empty, ...rest } = r;
  return rest;
}
