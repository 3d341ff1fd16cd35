// Starts the REAL hub process (bin/youlab-hub.js) on 127.0.0.1 with an ephemeral port and a
// temp data dir, for integration tests. Every hub started here is killed when the test
// process exits, and the hub itself exits when its stdin closes (YOULAB_HUB_EXIT_WITH_STDIN),
// so even a test worker killed with SIGKILL leaves no hub behind.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const HUB_BIN = join(REPO_ROOT, 'bin', 'youlab-hub.js');

export interface StartHubOptions {
  /** Extra env (e.g. RALPH_MAX_FILE_BYTES); LOG_LEVEL defaults to "warn". */
  env?: Record<string, string>;
  /** Use this data dir (kept on stop); default: a fresh temp dir, removed by stop(). */
  dataDir?: string;
  /** Extra CLI arguments. */
  args?: string[];
  /** How long to wait for the "listening" line. Default 30 s. */
  startTimeoutMs?: number;
  /** The hub command to run (default: bin/youlab-hub.js, the sources through tsx). */
  bin?: string;
}

export interface HubHandle {
  /** `http://127.0.0.1:<port>` (may change after restart() if the port was taken). */
  url: string;
  port: number;
  dataDir: string;
  /** The running child (undefined while stopped). */
  process: ChildProcess | undefined;
  /** Creates a key through the real CLI: `keys create --user <id>` or `--service`. */
  createKey(userId: string | null, opts?: { service?: boolean; label?: string }): Promise<string>;
  /** Runs any `youlab-hub` CLI command against this hub's data dir. */
  cli(args: string[]): Promise<CliResult>;
  /** stderr (logs) of the current process so far. */
  logs(): string;
  /** SIGTERM and wait for exit; removes the temp data dir unless `keepData` or a dataDir was given. */
  stop(opts?: { keepData?: boolean }): Promise<void>;
  /** SIGKILL (a crash); the data dir stays. */
  kill(): Promise<void>;
  /** Stops (SIGTERM, or SIGKILL with `crash`) and starts again on the same data dir, same port if free. */
  restart(opts?: { crash?: boolean }): Promise<void>;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of live) {
      try {
        c.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}

/** Runs `youlab-hub <args>` with the given data dir (through the real bin launcher). */
export function runHubCli(args: string[], opts: { dataDir: string; env?: Record<string, string>; bin?: string }): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      [opts.bin ?? HUB_BIN, ...args, '--data-dir', opts.dataDir],
      { cwd: REPO_ROOT, env: { ...process.env, ...opts.env }, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
  });
}

/** Creates a user key (or a service key with userId null) through the real CLI. */
export async function createUserKey(dataDir: string, userId: string | null, opts: { service?: boolean; label?: string } = {}): Promise<string> {
  const args = ['keys', 'create'];
  if (opts.service || userId === null) args.push('--service');
  else args.push('--user', userId);
  if (opts.label) args.push('--label', opts.label);
  const r = await runHubCli(args, { dataDir });
  if (r.code !== 0) throw new Error(`keys create failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim();
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

interface Spawned {
  child: ChildProcess;
  url: string;
  port: number;
  stderr: () => string;
}

async function spawnHub(dataDir: string, port: number, opts: StartHubOptions): Promise<Spawned> {
  installExitHook();
  const child = spawn(process.execPath, [opts.bin ?? HUB_BIN, '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir, ...(opts.args ?? [])], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...opts.env, YOULAB_HUB_EXIT_WITH_STDIN: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let err = '';
  let out = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    if (err.length > 1_000_000) err = err.slice(-500_000);
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hub did not start within ${opts.startTimeoutMs ?? 30_000} ms\n${err}`));
    }, opts.startTimeoutMs ?? 30_000);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /youlab-hub listening on (http:\/\/\S+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]!);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`hub exited before listening (code ${code}, signal ${signal})\n${err}`));
    });
  });
  return { child, url, port: Number(new URL(url).port), stderr: () => err };
}

export async function startHub(opts: StartHubOptions = {}): Promise<HubHandle> {
  const ownsDir = !opts.dataDir;
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'youlab-hub-test-')));
  let current: Spawned | undefined = await spawnHub(dataDir, 0, opts);

  const terminate = async (signal: NodeJS.Signals): Promise<void> => {
    const c = current;
    current = undefined;
    if (!c) return;
    c.child.kill(signal);
    const timer = setTimeout(() => c.child.kill('SIGKILL'), 10_000);
    await waitExit(c.child);
    clearTimeout(timer);
  };

  const handle: HubHandle = {
    url: current.url,
    port: current.port,
    dataDir,
    process: current.child,
    createKey: (userId, o = {}) => createUserKey(dataDir, userId, o),
    cli: (args) => runHubCli(args, { dataDir }),
    logs: () => current?.stderr() ?? '',
    async stop(o = {}) {
      await terminate('SIGTERM');
      handle.process = undefined;
      if (ownsDir && !o.keepData) await rm(dataDir, { recursive: true, force: true });
    },
    async kill() {
      await terminate('SIGKILL');
      handle.process = undefined;
    },
    async restart(o = {}) {
      await terminate(o.crash ? 'SIGKILL' : 'SIGTERM');
      let lastErr: unknown;
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          current = await spawnHub(dataDir, handle.port, opts);
          break;
        } catch (e) {
          lastErr = e;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      current ??= await spawnHub(dataDir, 0, opts).catch((e: unknown) => {
        throw lastErr ?? e;
      });
      handle.url = current.url;
      handle.port = current.port;
      handle.process = current.child;
    },
  };
  return handle;
}

/** Authorization header for a key. */
export function auth(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  json<T = unknown>(): T;
}

/**
 * An HTTP request that sends `path` exactly as given (no URL normalisation, unlike fetch),
 * so tests can send `..`, `%2e%2e` and friends.
 */
export async function rawRequest(
  baseUrl: string,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: string | Uint8Array },
): Promise<RawResponse> {
  const { request } = await import('node:http');
  const u = new URL(baseUrl);
  return new Promise((resolveRes, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolveRes({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            text: body.toString('utf8'),
            json: <T>() => JSON.parse(body.toString('utf8')) as T,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}
