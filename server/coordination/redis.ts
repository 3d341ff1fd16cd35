// The Redis connection shared by the coordination parts: one client for commands, one for
// pub/sub (a subscribed connection cannot send other commands). Commands fail fast while
// Redis is unreachable (no offline queue) and time out instead of hanging, so a request
// gets a clear 503 rather than waiting forever.
import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import type { Logger } from '../log.ts';
import { CoordinationUnavailableError } from './errors.ts';

export type RedisReply = string | number | null | RedisReply[];

export interface RedisConnection {
  /** Random per process: lets an instance recognise its own pub/sub messages. */
  readonly instanceId: string;
  readonly prefix: string;
  /** Resolves once both connections are up (rejects if the first connect fails). */
  readonly ready: Promise<void>;
  isReady(): boolean;
  /** A raw command; rejects with CoordinationUnavailableError when Redis is unreachable or slow. */
  call(args: string[]): Promise<RedisReply>;
  /** `EVAL` a Lua script. */
  eval(script: string, keys: string[], args: string[]): Promise<RedisReply>;
  subscribe(channel: string, onMessage: (message: string) => void): Promise<void>;
  close(): Promise<void>;
}

export interface RedisOptions {
  url: string;
  prefix: string;
  log: Logger;
  /** Longest a single command may take before the request fails. */
  commandTimeoutMs?: number;
}

export function connectRedis(opts: RedisOptions): RedisConnection {
  const timeoutMs = opts.commandTimeoutMs ?? 5000;
  let everReady = false;
  // Once up, reconnect forever (Redis restarts, failovers); at start, give up after a few
  // tries so a wrong REDIS_URL ends the hub with a message instead of a silent wait.
  const reconnectStrategy = (retries: number, cause: Error): number | Error =>
    !everReady && retries >= 6 ? cause : Math.min(50 * 2 ** retries, 2000);
  const client = createClient({
    url: opts.url,
    disableOfflineQueue: true,
    socket: { connectTimeout: timeoutMs, reconnectStrategy },
  });
  const sub = client.duplicate();
  logStateChanges([client, sub], opts.log);
  let closed = false;
  const ready = (async () => {
    try {
      await Promise.all([client.connect(), sub.connect()]);
      everReady = true;
    } catch (err) {
      // Safe URL only: the password part never reaches a log or an error message.
      throw new Error(`cannot connect to Redis at ${redactUrl(opts.url)}: ${(err as Error).message}`);
    }
  })();
  // Attached here so a failed first connect is reported by whoever awaits `ready`, not as unhandled.
  ready.catch(() => {});

  const call = async (args: string[]): Promise<RedisReply> => {
    await ready;
    if (closed || !client.isReady) throw new CoordinationUnavailableError();
    try {
      return (await withTimeout(client.sendCommand(args), timeoutMs)) as RedisReply;
    } catch (err) {
      if (err instanceof CoordinationUnavailableError) throw err;
      // A reply error (script bug, wrong type) is a bug, not an outage: keep its message.
      if ((err as Error).constructor?.name?.endsWith('ErrorReply') || (err as Error).name === 'ErrorReply') throw err;
      throw new CoordinationUnavailableError();
    }
  };

  return {
    instanceId: randomBytes(6).toString('hex'),
    prefix: opts.prefix,
    ready,
    isReady: () => !closed && client.isReady && sub.isReady,
    call,
    eval: (script, keys, args) => call(['EVAL', script, String(keys.length), ...keys, ...args]),
    async subscribe(channel, onMessage) {
      await ready;
      await sub.subscribe(channel, (message: string) => onMessage(message));
    },
    async close() {
      if (closed) return;
      closed = true;
      await closeClients([sub, client]);
    },
  };
}

type Client = ReturnType<typeof createClient>;

/** Without 'error' listeners node-redis would throw; the state is logged once per change. */
function logStateChanges(clients: Client[], log: Logger): void {
  let down = false;
  for (const c of clients) {
    c.on('error', (err: unknown) => {
      if (!down) log.error({ err: String(err) }, 'redis unavailable');
      down = true;
    });
    c.on('ready', () => {
      if (down) log.info('redis reachable again');
      down = false;
    });
  }
}

/** `p`, or CoordinationUnavailableError once it took longer than `timeoutMs`. */
async function withTimeout<T>(p: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CoordinationUnavailableError('Redis did not answer in time; try again shortly')), timeoutMs);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Closes the connections one after another. */
async function closeClients(clients: Client[]): Promise<void> {
  for (const c of clients) {
    try {
      await c.close();
    } catch {
      // Not open (Redis went away): drop the socket and its reconnect timer instead.
      try {
        c.destroy();
      } catch {
        /* already gone */
      }
    }
  }
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    if (u.username) u.username = '***';
    return u.toString();
  } catch {
    // a URL that does not parse is logged as such, never echoed (it may hold a password)
    return '<invalid url>';
  }
}
