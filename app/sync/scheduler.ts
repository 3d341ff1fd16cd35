// When rounds run. The engine owns no queue of work: each round is derived from the folder, the
// base and the hub listing, so the watcher, the change feed, the interval timer and the shell all
// just ask for a round. Rounds never overlap; a request during one runs another after it. Paths
// the watcher or the feed named are collected for a quick round (quick-round.ts) until a full
// round covers them.
import { pathKey } from '../../shared/paths.ts';
import type { RoundSummary } from '../engine-api/types.ts';
import { Backoff } from './backoff.ts';
import { QUICK_MAX_PATHS, type RemoteHint } from './quick-round.ts';
import { RoundError } from './round-context.ts';

/** A change the feed announced. */
export type AnnouncedChange = { path: string; hash: string | null; size?: number; modified?: string };

export interface RoundRunners {
  /** Full rounds until the folder converged (engine.ts). */
  full: () => Promise<RoundSummary>;
  /** A quick round for these paths; `needFull`: the full round must follow (it was not simple, or failed). */
  quick: (local: ReadonlySet<string>, remote: ReadonlyMap<string, RemoteHint>) => Promise<{ summary: RoundSummary; needFull: boolean }>;
  /** A full round has run and the feed is followed (quick rounds need both). */
  ready: () => boolean;
  log: (line: string) => void;
}

export class RoundScheduler {
  private running: Promise<RoundSummary> | undefined;
  private wanted = false;
  private isPaused = false;
  private isStopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private intervalTimer: NodeJS.Timeout | undefined;
  private readonly backoff = new Backoff();
  /** Paths named by the watcher / the feed since the last round, for a quick round (quick-round.ts). */
  private quickLocal = new Set<string>();
  private quickRemote = new Map<string, RemoteHint>();

  constructor(private readonly run: RoundRunners) {}

  get paused(): boolean {
    return this.isPaused;
  }

  get stopped(): boolean {
    return this.isStopped;
  }

  /** Rounds run by themselves (a long-running engine), not only when asked. */
  get started(): boolean {
    return this.intervalTimer !== undefined;
  }

  /** The safety-net rescan every `intervalMs`, and a first round now. */
  start(intervalMs: number): void {
    this.intervalTimer = setInterval(() => this.request(), intervalMs);
    this.request();
  }

  /** No round starts after this; `settled` waits for the one running. */
  stop(): void {
    this.isStopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.intervalTimer);
  }

  /** The running round is over (however it ended). */
  async settled(): Promise<void> {
    await this.running?.catch(() => {}); // that round's outcome went to its own caller; this only waits for it
  }

  pause(): void {
    this.isPaused = true;
  }

  /** Rounds may run again; the caller asks for one. */
  unpause(): void {
    this.isPaused = false;
  }

  /** Ask for a round; rounds never overlap, and a request during one runs another after it. */
  request(): void {
    if (this.isStopped) return;
    if (this.isPaused) return;
    if (this.running) {
      this.wanted = true;
      return;
    }
    clearTimeout(this.retryTimer);
    this.syncNow().then(
      () => this.backoff.reset(),
      (e: unknown) => this.scheduleRetry(e),
    );
  }

  private scheduleRetry(e: unknown): void {
    if (this.isStopped || (e as Error).name === 'AbortError') return;
    const slow = e instanceof RoundError && e.code !== 'network';
    // Problems that need the user are retried slowly; network trouble with backoff and jitter.
    const delay = slow ? 5 * 60_000 : this.backoff.next();
    this.run.log(`next attempt in ${Math.round(delay / 1000)} s`);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.request(), delay);
  }

  async syncNow(): Promise<RoundSummary> {
    if (this.running !== undefined) {
      this.wanted = true;
      await this.running.catch(() => {}); // that round's outcome went to its own caller; this one only waits its turn
      // A round another caller asked for meanwhile is the fresh one: answer with it.
      if (this.running !== undefined) return this.running;
    }
    // A full round sees every path: what was waiting for a quick round is covered by it.
    this.quickLocal.clear();
    this.quickRemote.clear();
    this.running = this.run.full().finally(() => this.afterRun());
    return this.running;
  }

  private afterRun(): void {
    this.running = undefined;
    if (this.isStopped || this.isPaused) return;
    if (this.wanted) {
      this.wanted = false;
      setImmediate(() => this.request());
    } else if (this.quickLocal.size > 0 || this.quickRemote.size > 0) {
      setImmediate(() => this.requestQuick(undefined, undefined));
    }
  }

  /**
   * A few files changed (watcher) or were announced (feed): reconcile just those, unless the
   * engine has not completed a full round yet. The full round stays the safety net: the quick
   * round asks for it whenever its answer is not simple.
   */
  requestQuick(local: ReadonlySet<string> | undefined, remote: readonly AnnouncedChange[] | undefined): void {
    if (this.isStopped || this.isPaused) return;
    for (const p of local ?? []) this.quickLocal.add(p);
    for (const c of remote ?? []) this.quickRemote.set(pathKey(c.path), { hash: c.hash, ...(c.size !== undefined ? { size: c.size } : {}), ...(c.modified ? { modified: c.modified } : {}) });
    if (this.running) return;
    if (!this.run.ready() || this.quickLocal.size + this.quickRemote.size > QUICK_MAX_PATHS) {
      this.request();
      return;
    }
    const local2 = this.quickLocal;
    const remote2 = this.quickRemote;
    this.quickLocal = new Set();
    this.quickRemote = new Map();
    this.running = this.quick(local2, remote2).finally(() => this.afterRun());
    this.running.catch(() => {}); // a quick round's failure asks for a full round (quick()), which reports it
  }

  private async quick(local: ReadonlySet<string>, remote: ReadonlyMap<string, RemoteHint>): Promise<RoundSummary> {
    const { summary, needFull } = await this.run.quick(local, remote);
    if (needFull) this.wanted = true;
    return summary;
  }
}
