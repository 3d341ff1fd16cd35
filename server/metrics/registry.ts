// The hub's Prometheus metrics (prom-client), on a registry of their own (not the global one,
// so several hubs in one process - tests - do not collide). Other modules increment these
// directly; names are stable because dashboards depend on them:
//   youlab_http_requests_total{method,route,status}
//   youlab_http_request_bytes_total / youlab_http_response_bytes_total {route}
//   youlab_sync_rounds_total{kind}          kind: "list" (a client's full round starts with a listing), "kb"
//   youlab_files_synced_total{source,op}    changes written through the hub or seen from the agent
//   youlab_conflicts_total{route}           412 answers (a lost If-Match race or a stale client)
//   youlab_kb_sync_duration_seconds         histogram of KB sync rounds (KB sync observes it)
//   youlab_kb_sync_failures_total           failed KB sync rounds
//   youlab_change_feed_subscribers          long polls pending on this instance
//   youlab_rate_limit_rejections_total{budget}
//   youlab_coordination_up                  1 when Redis is reachable (or not used), else 0
//   youlab_versions_dropped_total{reason}   versions removed: "expired" (retention), "budget" (RALPH_VERSION_MAX_BYTES)
//   youlab_webhook_deliveries_total{outcome} Ralph webhook POSTs: "ok", "error" (retried)
//   youlab_webhook_dropped_total            changes dropped from a full webhook queue
//   youlab_webhook_queue                    changes waiting for the webhook
// plus prom-client's default process metrics, prefixed youlab_.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface MetricsSources {
  /** Pending long polls right now. */
  feedSubscribers?: () => number;
  coordinationUp?: () => boolean;
  /** Changes waiting for the Ralph webhook. */
  webhookQueue?: () => number;
}

export class HubMetrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'youlab_http_requests_total',
    help: 'HTTP requests answered, by route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly bytesIn = new Counter({
    name: 'youlab_http_request_bytes_total',
    help: 'request body bytes received',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });
  readonly bytesOut = new Counter({
    name: 'youlab_http_response_bytes_total',
    help: 'response bytes sent',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });
  readonly syncRounds = new Counter({
    name: 'youlab_sync_rounds_total',
    help: 'sync rounds: client listings (kind=list) and KB sync rounds (kind=kb)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly filesSynced = new Counter({
    name: 'youlab_files_synced_total',
    help: 'file changes announced in the feed, by source (client, agent, restore, openwebui) and op (upsert, delete)',
    labelNames: ['source', 'op'] as const,
    registers: [this.registry],
  });
  readonly conflicts = new Counter({
    name: 'youlab_conflicts_total',
    help: 'conditional requests refused with 412',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });
  readonly kbSyncDuration = new Histogram({
    name: 'youlab_kb_sync_duration_seconds',
    help: 'duration of KB sync rounds',
    buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });
  readonly kbSyncFailures = new Counter({
    name: 'youlab_kb_sync_failures_total',
    help: 'KB sync rounds that failed',
    registers: [this.registry],
  });
  readonly rateLimitRejections = new Counter({
    name: 'youlab_rate_limit_rejections_total',
    help: 'requests refused with 429, by budget',
    labelNames: ['budget'] as const,
    registers: [this.registry],
  });

  readonly versionsDropped = new Counter({
    name: 'youlab_versions_dropped_total',
    help: 'versions removed, by reason: expired (retention period), budget (disk budget exceeded)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly webhookDeliveries = new Counter({
    name: 'youlab_webhook_deliveries_total',
    help: 'Ralph webhook delivery attempts, by outcome (ok, error: retried with backoff)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly webhookDropped = new Counter({
    name: 'youlab_webhook_dropped_total',
    help: 'changes dropped from a full Ralph webhook queue',
    registers: [this.registry],
  });

  constructor(sources: MetricsSources = {}, opts: { defaultMetrics?: boolean } = {}) {
    new Gauge({
      name: 'youlab_webhook_queue',
      help: 'changes waiting for the Ralph webhook',
      registers: [this.registry],
      collect() {
        this.set(sources.webhookQueue?.() ?? 0);
      },
    });
    new Gauge({
      name: 'youlab_change_feed_subscribers',
      help: 'change-feed long polls pending on this instance',
      registers: [this.registry],
      collect() {
        this.set(sources.feedSubscribers?.() ?? 0);
      },
    });
    new Gauge({
      name: 'youlab_coordination_up',
      help: '1 when the coordination store (Redis) is reachable or not used',
      registers: [this.registry],
      collect() {
        this.set(sources.coordinationUp?.() === false ? 0 : 1);
      },
    });
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'youlab_' });
  }

  /** Times a KB sync round: `const done = metrics.startKbSync(); ... done(ok)`. */
  startKbSync(): (ok: boolean) => void {
    const end = this.kbSyncDuration.startTimer();
    return (ok) => {
      end();
      this.syncRounds.inc({ kind: 'kb' });
      if (!ok) this.kbSyncFailures.inc();
    };
  }
}
