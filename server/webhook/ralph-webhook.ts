// Tells Ralph what changed, as it happens: every change the hub announces is queued here (O(1),
// in the listener: sync never waits on Ralph) and POSTed in JSON batches to RALPH_WEBHOOK_URL,
// signed with HMAC-SHA256 (RALPH_WEBHOOK_SECRET) over `<timestamp>.<body>` so the receiver can
// check who sent it and refuse a replay (docs/AGENT.md). A batch that fails (an error status, a
// refused connection, no answer within the timeout) is sent again, same id, newly signed, after
// a backoff that doubles up to a cap; changes arriving meanwhile wait in a bounded queue (the
// oldest go, logged and counted, when it is full). Each instance sends the changes it announced.
import { createHmac, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Change } from '../../shared/protocol.ts';
import type { Logger } from '../log.ts';

export const SIGNATURE_HEADER = 'x-youlab-signature';
export const TIMESTAMP_HEADER = 'x-youlab-timestamp';
export const DELIVERY_HEADER = 'x-youlab-delivery';

export interface WebhookOptions {
  url: string;
  secret: string;
  log: Logger;
  /** A delivery attempt with no answer after this long counts as failed. */
  timeoutMs?: number;
  /** Changes per batch. */
  batchMax?: number;
  /** Changes waiting at most; beyond it the oldest are dropped. */
  queueMax?: number;
  /** First retry delay; doubles per failed attempt of one batch, up to `retryMaxMs`. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** How long the first change of a quiet spell waits for others to join its batch. */
  lingerMs?: number;
  /** Each attempt's outcome (metrics). */
  onAttempt?: (outcome: 'ok' | 'error') => void;
  /** Changes dropped from a full queue (metrics). */
  onDropped?: (n: number) => void;
}

/** One change as Ralph receives it. */
export type WebhookChange = Change & { user_id: string };

/** The JSON body of one delivery. */
export interface WebhookBatch {
  id: string;
  sent_at: string;
  changes: WebhookChange[];
}

/** `sha256=<hex>` of HMAC-SHA256(secret, `<timestamp>.<body>`): what the receiver recomputes. */
export function signBody(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export class RalphWebhook {
  private readonly queue: WebhookChange[] = [];
  private running: Promise<void> | undefined;
  private readonly stop = new AbortController();
  private readonly o: Required<Omit<WebhookOptions, 'onAttempt' | 'onDropped'>> & Pick<WebhookOptions, 'onAttempt' | 'onDropped'>;

  constructor(opts: WebhookOptions) {
    this.o = { timeoutMs: 10_000, batchMax: 500, queueMax: 10_000, retryBaseMs: 1_000, retryMaxMs: 60_000, lingerMs: 50, ...opts };
  }

  /** Changes waiting to be delivered (metrics). */
  get waiting(): number {
    return this.queue.length;
  }

  /** Queues a change; never waits, never throws. */
  enqueue(userId: string, change: Change): void {
    if (this.stop.signal.aborted) return;
    this.queue.push({ ...change, user_id: userId });
    if (this.queue.length > this.o.queueMax) {
      const n = this.queue.length - this.o.queueMax;
      this.queue.splice(0, n);
      this.o.onDropped?.(n);
      this.o.log.warn({ dropped: n, queueMax: this.o.queueMax }, 'Ralph webhook queue full: oldest changes dropped (the change feed still has them)');
    }
    this.kick();
  }

  /** Starts the sender unless it runs; it stops when the queue is empty. */
  private kick(): void {
    if (this.running || this.stop.signal.aborted) return;
    this.running = this.drain()
      .catch((err: unknown) => this.o.log.error({ err }, 'Ralph webhook sender failed'))
      .finally(() => {
        this.running = undefined;
        // Changes queued while the sender was finishing.
        if (this.queue.length > 0) this.kick();
      });
  }

  /** Stops sending: an attempt in flight is aborted; what is queued is dropped (the feed has it). */
  async close(): Promise<void> {
    this.stop.abort();
    await this.running;
  }

  private async drain(): Promise<void> {
    await sleep(this.o.lingerMs, undefined, { signal: this.stop.signal }).catch(() => {}); // closed: the loop below ends at once
    while (this.queue.length > 0 && !this.stop.signal.aborted) {
      const changes = this.queue.splice(0, this.o.batchMax);
      await this.deliver({ id: randomUUID(), sent_at: new Date().toISOString(), changes });
    }
  }

  /** Sends one batch until it is accepted (2xx) or the webhook is closed. */
  private async deliver(batch: WebhookBatch): Promise<void> {
    const body = JSON.stringify(batch);
    for (let attempt = 0; !this.stop.signal.aborted; attempt++) {
      const why = await this.attempt(batch.id, body);
      if (this.stop.signal.aborted) return; // shutting down: an aborted attempt is no delivery failure
      if (why === undefined) {
        this.o.onAttempt?.('ok');
        return;
      }
      this.o.onAttempt?.('error');
      const delay = Math.min(this.o.retryBaseMs * 2 ** attempt, this.o.retryMaxMs);
      this.o.log.warn({ delivery: batch.id, changes: batch.changes.length, attempt: attempt + 1, retryInMs: delay, why }, 'Ralph webhook delivery failed; retrying');
      await sleep(delay, undefined, { signal: this.stop.signal }).catch(() => {}); // closed: the loop ends
    }
  }

  /** One POST; undefined when accepted, else why not. */
  private async attempt(id: string, body: string): Promise<string | undefined> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    try {
      const res = await fetch(this.o.url, {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/json',
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: signBody(this.o.secret, timestamp, body),
          [DELIVERY_HEADER]: id,
        },
        signal: AbortSignal.any([this.stop.signal, AbortSignal.timeout(this.o.timeoutMs)]),
        redirect: 'manual',
      });
      await res.arrayBuffer().catch(() => undefined); // the answer's body means nothing; a broken one changes nothing
      return res.status >= 200 && res.status < 300 ? undefined : `HTTP ${res.status}`;
    } catch (err) {
      return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
  }
}
