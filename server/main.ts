// Runs the hub: reads config, builds the dependencies, listens, shuts down gracefully.
// `buildHub` is the one place that assembles the hub, so features (the Open WebUI sync) add
// their plugin and background service there with a small edit.
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { createApp } from './app.ts';
import { KeyStore } from './auth/keys.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { createCoordination, type Coordination } from './coordination/index.ts';
import { HubMetrics } from './metrics/registry.ts';
import { createRateLimiters } from './http/rate-limit.ts';
import { createLogger, type Logger } from './log.ts';
import type { HubPlugin } from './plugin.ts';
import { RalphWebhook } from './webhook/ralph-webhook.ts';
import { watchAgentWrites } from './workspace/agent-watcher.ts';
import { FsWorkspaceStore } from './workspace/fs-store.ts';
import { verifySchedulerFor } from './workspace/verify-walk.ts';
import { loadOpenWebUIConfig, type OpenWebUISyncConfig } from './openwebui/config.ts';
import { openWebUIPlugin } from './openwebui/plugin.ts';

/** Something that runs beside the HTTP server and is stopped on shutdown. */
export interface BackgroundService {
  name: string;
  stop(): Promise<void>;
}

export interface Hub {
  config: Config;
  log: Logger;
  keys: KeyStore;
  store: FsWorkspaceStore;
  app: ReturnType<typeof createApp>;
  services: BackgroundService[];
  /** Locks, change feed and rate-limit store: in process, or shared through Redis (REDIS_URL). */
  coordination: Coordination;
  /** Prometheus metrics; other features increment them (served at /metrics when RALPH_METRICS=true). */
  metrics: HubMetrics;
  /** Resolves once background services (the agent watcher) and Redis are ready. */
  ready: Promise<void>;
}

const PRUNE_EVERY_MS = 60 * 60 * 1000;

export function buildHub(
  config: Config,
  log: Logger = createLogger(config.logLevel),
  // Open WebUI KB sync settings (RALPH_OPENWEBUI_*, RALPH_SYNC_*); read from the environment by default.
  openwebui: OpenWebUISyncConfig = loadOpenWebUIConfig(process.env),
): Hub {
  mkdirSync(config.dataDir, { recursive: true });
  const keys = KeyStore.forDataDir(config.dataDir);
  const coordination = createCoordination(config, log.child({ part: 'coordination' }));
  // The agent watcher needs the store, so it is made after it (below); the store asks it lazily
  // whether it has changes in hand, which only a request does, never before buildHub returns.
  const store = new FsWorkspaceStore({
    dataDir: config.dataDir,
    maxFileBytes: config.maxFileBytes,
    maxWorkspaceBytes: config.maxWorkspaceBytes,
    versionRetentionDays: config.versionRetentionDays,
    versionMaxBytes: config.versionMaxBytes,
    log,
    journal: coordination.journal,
    locks: coordination.writeLocks,
    sharedVolume: coordination.mode === 'redis',
    agentSettled: (u) => watcher.settled(u),
  });
  // Another instance wrote: this one's cached quota usage for that user is stale.
  coordination.onRemoteChange((userId) => store.forgetUsage(userId));
  const webhook: RalphWebhook | undefined = config.webhookUrl ? ralphWebhook(config, log, (): HubMetrics => metrics) : undefined;
  const metrics: HubMetrics = new HubMetrics({ feedSubscribers: () => store.journal.waiting, coordinationUp: () => coordination.healthy(), webhookQueue: () => webhook?.waiting ?? 0 });
  store.onChange((_user, change) => metrics.filesSynced.inc({ source: change.source, op: change.hash === null ? 'delete' : 'upsert' }));
  const rateLimiters = createRateLimiters(config, {
    store: (budget) => coordination.rateLimitStore(budget),
    onReject: (budget) => metrics.rateLimitRejections.inc({ budget }),
  });
  const plugins: HubPlugin[] = [];
  const services: BackgroundService[] = [];
  if (webhook) {
    store.onChange((user, change) => webhook.enqueue(user, change));
    services.push({ name: 'ralph-webhook', stop: () => webhook.close() });
  }

  const watcher = watchAgentWrites(store, config.dataDir, log.child({ part: 'agent-watcher' }));
  services.push({ name: 'agent-watcher', stop: () => watcher.close() });

  // Verification walks after 304 answers (workspace/verify-walk.ts): owned here, handed to the
  // routes through createApp, stopped on shutdown (deferred walks are dropped; walks under way
  // are the store's tracked work, which store.close() lets finish first).
  const verifier = verifySchedulerFor(store, log);
  services.push({ name: 'key-usage', stop: () => keys.usage.flush() }); // "last used" of the last minute
  services.push({ name: 'verify-walks', stop: async () => verifier.close() });

  const prune = (): void => {
    store
      .pruneVersions()
      .then((r) => {
        metrics.versionsDropped.inc({ reason: 'expired' }, r.expired);
        metrics.versionsDropped.inc({ reason: 'budget' }, r.overBudget);
        if (r.expired + r.contents > 0) log.info({ removed: r.expired, contentCopies: r.contents }, 'old versions pruned');
      })
      .catch((err: unknown) => log.warn({ err }, 'version pruning failed'));
  };
  prune();
  const pruneTimer = setInterval(prune, PRUNE_EVERY_MS);
  pruneTimer.unref();
  services.push({ name: 'version-pruner', stop: async () => clearInterval(pruneTimer) });

  const kb = openWebUIPlugin(openwebui, { lock: coordination.kbLocks, onRoundStart: () => metrics.startKbSync() });
  plugins.push(kb.plugin);
  services.push({ name: 'openwebui-sync', stop: () => kb.stop() });

  const app = createApp({ keys, store, log, limits: config, openWebUI: { url: openwebui.url, userMap: openwebui.userMap }, rateLimiters, plugins, metrics, serveMetrics: config.metrics, coordination, verifier });
  const ready = Promise.all([watcher.ready, coordination.ready]).then(() => {});
  return { config, log, keys, store, app, services, coordination, metrics, ready };
}

/** The Ralph webhook (RALPH_WEBHOOK_URL), its outcomes counted in the hub's metrics. */
function ralphWebhook(config: Config, log: Logger, metrics: () => HubMetrics): RalphWebhook {
  return new RalphWebhook({
    url: config.webhookUrl,
    secret: config.webhookSecret,
    timeoutMs: config.webhookTimeoutMs,
    retryMaxMs: config.webhookRetryMaxMs,
    log: log.child({ part: 'ralph-webhook' }),
    onAttempt: (outcome) => metrics().webhookDeliveries.inc({ outcome }),
    onDropped: (n) => metrics().webhookDropped.inc(n),
  });
}

export interface RunningHub {
  hub: Hub;
  server: Server;
  url: string;
  stop(): Promise<void>;
}

export async function startHub(config: Config): Promise<RunningHub> {
  const hub = buildHub(config);
  try {
    await hub.ready;
  } catch (err) {
    for (const s of hub.services) await s.stop().catch(() => {}); // start-up failed already; that error is the one to report
    await hub.coordination.close().catch(() => {}); // start-up failed already; that error is the one to report
    throw err;
  }
  // Slow or stalled uploads must not hold a connection (and its temp file) forever. Node checks
  // the request timeout only every connectionsCheckingInterval, so a short timeout checks often.
  const checkEvery = config.requestTimeoutMs > 0 ? Math.max(250, Math.min(30_000, Math.floor(config.requestTimeoutMs / 4))) : 30_000;
  const server = createServer({ connectionsCheckingInterval: checkEvery }, hub.app);
  server.requestTimeout = config.requestTimeoutMs;
  server.timeout = config.idleTimeoutMs;
  // Node stops enforcing requestTimeout once a handler reads the body, so a body that trickles in
  // (one byte now and then keeps the idle timer happy) is cut here; the upload's temp file goes with it.
  if (config.requestTimeoutMs > 0) {
    server.on('request', (req, res) => {
      // Only bodies are timed: a long poll has none and answers within its own 60 s cap.
      const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
      if (!hasBody || req.complete) return;
      const timer = setTimeout(() => req.socket.destroy(), config.requestTimeoutMs);
      timer.unref();
      const clear = () => clearTimeout(timer);
      req.once('end', clear);
      res.once('close', clear);
    });
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      hub.log.info('shutting down');
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      // Give in-flight requests a moment, then cut the rest (an upload cut off removes its temp file).
      const force = setTimeout(() => server.closeAllConnections(), 3000);
      force.unref();
      // Pending long polls answer now; writes under way finish or fail before their locks go.
      await hub.store.close();
      await closed;
      clearTimeout(force);
      for (const s of hub.services) await s.stop().catch(() => {}); // each service logs its own trouble; shutdown goes on with the rest
      // Last: locks still held are released, then the Redis connections close.
      await hub.coordination.close().catch((err: unknown) => hub.log.warn({ err: String(err) }, 'coordination close failed'));
    })());
  return { hub, server, url, stop };
}

/** `youlab-hub [--port N] [--host H] [--data-dir D]` */
export async function serve(argv: string[]): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(argv);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`youlab-hub: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const running = await startHub(config);
  process.stdout.write(`youlab-hub listening on ${running.url}\n`);
  running.hub.log.info({ url: running.url, dataDir: config.dataDir }, 'listening');
  const onSignal = (sig: string): void => {
    running.hub.log.info({ signal: sig }, 'signal received');
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
  // For supervisors (and tests) that hold our stdin: when they go away, so do we.
  if (process.env.YOULAB_HUB_EXIT_WITH_STDIN === '1') {
    process.stdin.on('end', () => onSignal('stdin closed'));
    process.stdin.on('error', () => onSignal('stdin closed'));
    process.stdin.resume();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  serve(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`youlab-hub: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
