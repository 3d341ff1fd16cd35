// Follows the hub's change feed (long polls from the cursor of the last listing) and turns what it
// announces into rounds: a reset into a full round, a few changed paths into a quick round.
import { setTimeout as sleep } from 'node:timers/promises';
import type { IgnoreMatcher } from '../../shared/ignore-rules.ts';
import { pathKey } from '../../shared/paths.ts';
import type { Change } from '../../shared/protocol.ts';
import { Backoff } from './backoff.ts';
import type { HubClient } from './hub-client.ts';
import { HubError } from './hub-errors.ts';

export interface FeedOptions {
  hub: HubClient;
  ignore: IgnoreMatcher;
  /** Stops the long poll and every wait. */
  signal: AbortSignal;
  /** Long-poll wait, seconds. */
  waitSeconds: number;
  /** What base holds at a path: an announcement of that same content is no news. */
  base: (key: string) => string | undefined;
  stopped: () => boolean;
  paused: () => boolean;
  /** The feed cannot say what changed (the hub restarted, or the cursor is too old): list in full. */
  reset: () => void;
  /** These paths changed on the hub. */
  news: (changes: Change[]) => void;
  log: (line: string) => void;
}

export class FeedFollower {
  /** Where the feed is read from: the cursor of the last full round's listing, then of each answer. */
  cursor: string | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly o: FeedOptions) {}

  start(): void {
    this.loop = this.follow();
  }

  /** The loop is over (after the stop signal). */
  async ended(): Promise<void> {
    await this.loop?.catch(() => {}); // the loop reports its own trouble; this only waits for it to end
  }

  private async follow(): Promise<void> {
    const { o } = this;
    const backoff = new Backoff();
    while (!o.stopped()) {
      if (!this.cursor || o.paused()) {
        await sleep(500, undefined, { signal: o.signal }).catch(() => {}); // aborted: the loop condition ends it
        continue;
      }
      try {
        const since = this.cursor;
        const res = await o.hub.changes(since, o.waitSeconds, o.signal);
        backoff.reset();
        if (this.cursor === since) this.cursor = res.cursor;
        const news = res.changes.filter((c) => {
          const key = pathKey(c.path);
          if (o.ignore.ignores(key)) return false;
          return (c.hash ?? undefined) !== o.base(key);
        });
        if (res.reset) o.reset();
        else if (news.length > 0) o.news(news);
      } catch (e) {
        if (o.stopped() || (e as Error).name === 'AbortError') return;
        if (e instanceof HubError && (e.kind === 'not_found' || e.kind === 'protocol')) {
          o.log('the hub has no change feed; relying on rescans');
          return;
        }
        await sleep(backoff.next(), undefined, { signal: o.signal }).catch(() => {}); // aborted: the loop condition ends it
      }
    }
  }
}
