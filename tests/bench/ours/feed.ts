// Follows the hub's change feed (long poll: GET .../changes?since=&wait=) and remembers when each
// path reached each hash, so "local save -> hub" is timed on the hub's own word, not its disk.
import got from 'got';

export class FeedFollower {
  private readonly seen = new Map<string, number>();
  private readonly waiters = new Set<() => void>();
  private stopped = false;
  error: Error | undefined;

  constructor(
    private readonly base: string,
    private readonly user: string,
    private readonly key: string,
  ) {}

  private get headers() {
    return { authorization: `Bearer ${this.key}` };
  }

  async start(): Promise<void> {
    const list = await got(`${this.base}/users/${encodeURIComponent(this.user)}/workspace/files`, { headers: this.headers }).json<{ cursor: string }>();
    void this.loop(list.cursor);
  }

  private async loop(cursor: string): Promise<void> {
    while (!this.stopped) {
      try {
        const url = `${this.base}/users/${encodeURIComponent(this.user)}/workspace/changes?since=${encodeURIComponent(cursor)}&wait=10`;
        const body = await got(url, { headers: this.headers, timeout: { request: 30_000 }, retry: { limit: 0 } }).json<{
          cursor: string;
          changes: { path: string; hash: string | null }[];
          reset?: boolean;
        }>();
        const now = performance.now();
        for (const c of body.changes) if (c.hash) this.seen.set(`${c.path}\0${c.hash}`, now);
        cursor = body.cursor;
        for (const w of this.waiters) w();
      } catch (err) {
        if (this.stopped) return;
        this.error = err instanceof Error ? err : new Error(String(err));
        for (const w of this.waiters) w();
        return;
      }
    }
  }

  /** Resolves once the feed has announced `path` with `hash`. */
  async waitFor(path: string, hash: string, timeoutMs: number): Promise<void> {
    const key = `${path}\0${hash}`;
    const deadline = performance.now() + timeoutMs;
    while (!this.seen.has(key)) {
      if (this.error) throw this.error;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`hub feed did not announce ${path} within ${Math.round(timeoutMs / 1000)} s`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, Math.min(left, 1000));
        function done() {
          clearTimeout(t);
          waiters.delete(done);
          resolve();
        }
        const waiters = this.waiters;
        waiters.add(done);
      });
    }
  }

  stop(): void {
    this.stopped = true;
  }
}
