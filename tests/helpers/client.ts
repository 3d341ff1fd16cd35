// Process plumbing for integration tests: real `youlab-sync` processes on real temp folders.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { startHub, type HubHandle } from './hub.ts';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SYNC_BIN = join(REPO, 'bin/youlab-sync.js');

export interface ClientOptions {
  server: string;
  key: string;
  folder: string;
  stateDir: string;
  device?: string;
  args?: string[];
  env?: Record<string, string | undefined>;
  /** Kill the process when it runs longer (default 60 s). */
  timeoutMs?: number;
  /** The client command to run (default: bin/youlab-sync.js, the sources through tsx). */
  bin?: string;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function argv(o: ClientOptions, extra: string[]): string[] {
  return [o.bin ?? SYNC_BIN, '--server', o.server, '--folder', o.folder, '--state-dir', o.stateDir, '--device', o.device ?? 'testdev', ...extra, ...(o.args ?? [])];
}

function env(o: ClientOptions): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {
    ...process.env,
    YOULAB_API_KEY: o.key,
    // Never read the developer's own ~/.youlab-sync/config.yaml.
    YOULAB_SYNC_CONFIG: join(o.stateDir, 'no-config.yaml'),
    ...o.env,
  };
  for (const [k, v] of Object.entries(e)) if (v === undefined) delete e[k];
  return e;
}

/** Run `youlab-sync ... <args>` to completion. */
export function runCli(o: ClientOptions, extra: string[], stdin?: string): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, argv(o, extra), { cwd: tmpdir(), env: env(o), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
    child.stdin.end(stdin ?? '');
  });
}

/** One `--once` round. */
export function runOnce(o: ClientOptions): Promise<RunResult> {
  return runCli(o, ['--once']);
}

export interface Watching {
  child: ChildProcess;
  output(): string;
  /** Resolves when the output matches (rejects after the timeout). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
  /** SIGTERM and wait for a clean exit. */
  stop(): Promise<number | null>;
}

/** The long-running client (watcher + change feed). */
export function startWatching(o: ClientOptions): Watching {
  const child = spawn(process.execPath, argv(o, []), { cwd: tmpdir(), env: env(o), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of waiters) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return {
    child,
    output: () => out,
    waitFor(re, timeoutMs = 30_000) {
      return new Promise((resolveWait, reject) => {
        const check = () => {
          if (re.test(out)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolveWait();
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${re} in client output:\n${out}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

/** A device with its own folder and state dir under one temp root. */
export interface TestClient {
  name: string;
  folder: string;
  stateDir: string;
  opts(extra?: Partial<ClientOptions>): ClientOptions;
  once(extra?: Partial<ClientOptions>): Promise<RunResult>;
  /** `--once` that must exit 0 and returns the summary line. */
  sync(extra?: Partial<ClientOptions>): Promise<string>;
  write(rel: string, content: string | Uint8Array): Promise<void>;
  read(rel: string): Promise<string>;
}

export async function makeRoot(prefix = 'youlab-sync-it-'): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function makeClient(root: string, name: string, server: string, key: string): Promise<TestClient> {
  const folder = join(root, name, 'folder');
  const stateDir = join(root, name, 'state');
  await mkdir(folder, { recursive: true });
  const opts = (extra: Partial<ClientOptions> = {}): ClientOptions => ({ server, key, folder, stateDir, device: name, ...extra });
  const c: TestClient = {
    name,
    folder,
    stateDir,
    opts,
    once: (extra) => runOnce(opts(extra)),
    async sync(extra) {
      const r = await runOnce(opts(extra));
      if (r.code !== 0) throw new Error(`${name}: youlab-sync --once exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
      return r.stdout.trim().split('\n').pop() ?? '';
    },
    async write(rel, content) {
      await mkdir(dirname(join(folder, rel)), { recursive: true });
      await writeFile(join(folder, rel), content);
    },
    read: (rel) => readFile(join(folder, rel), 'utf8'),
  };
  return c;
}

export interface DevicePair {
  a: TestClient;
  b: TestClient;
  /** The user's hub workspace folder. */
  ws: string;
  user: string;
}

/**
 * One real hub and a temp root for a test file (started in beforeAll, stopped in afterAll), and
 * `pair()`: a fresh user with two devices, `alpha` and `beta`. User ids start with `prefix`.
 */
export function useHubWithDevices(prefix: string): { readonly hub: HubHandle; readonly root: string; pair(): Promise<DevicePair> } {
  let hub: HubHandle | undefined;
  let root: { dir: string; cleanup(): Promise<void> } | undefined;
  let n = 0;
  beforeAll(async () => {
    hub = await startHub();
    root = await makeRoot();
  });
  afterAll(async () => {
    await hub?.stop();
    await root?.cleanup();
  });
  return {
    get hub() {
      return hub!;
    },
    get root() {
      return root!.dir;
    },
    async pair() {
      const user = `${prefix}${++n}`;
      const key = await hub!.createKey(user);
      const a = await makeClient(join(root!.dir, user), 'alpha', hub!.url, key);
      const b = await makeClient(join(root!.dir, user), 'beta', hub!.url, key);
      return { a, b, ws: join(hub!.dataDir, user, 'workspace'), user };
    },
  };
}
