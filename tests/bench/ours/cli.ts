// Our hub and headless client driven only through their command lines and HTTP, as a user would:
//   youlab-hub [--port P] [--data-dir D]        youlab-hub keys create --user U --data-dir D
//   youlab-sync --server URL --folder DIR --state-dir DIR [--once]   (key in YOULAB_API_KEY)
// By default the compiled commands (scripts/build-cli.ts, built at the start of the run), as
// installed; `--tsx` measures bin/*.js, the TypeScript sources through tsx.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import got from 'got';
import { freePort, run, startDaemon, waitFor, type Daemon, type RunResult } from '../procs.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
export let HUB_BIN = join(ROOT, 'bin/youlab-hub.js');
export let SYNC_BIN = join(ROOT, 'bin/youlab-sync.js');

let compiled = false;

/** Compiles both commands into dist/cli and measures those from now on (once per run). */
export async function useCompiled(): Promise<void> {
  if (compiled) return;
  compiled = true;
  const { buildCli } = await import('../../../scripts/build-cli.ts');
  const built = await buildCli(join(ROOT, 'dist', 'cli'));
  HUB_BIN = built.hub;
  SYNC_BIN = built.sync;
}

/** Why our tool cannot be measured yet, or undefined when both commands exist. */
export function unavailableReason(): string | undefined {
  const missing = [HUB_BIN, SYNC_BIN].filter((p) => !existsSync(p));
  return missing.length ? `not available yet: ${missing.map((p) => p.slice(ROOT.length + 1)).join(', ')} missing` : undefined;
}

/**
 * Hub settings for the bench. The mixed tree is 140 MB, over the default 100 MiB quota, so the
 * quota is raised; rate limits stay at their defaults (what a user gets) unless BENCH_HUB_ENV
 * (a JSON object of env vars) overrides them. `scenario` holds what a scenario needs (the KB
 * section's Open WebUI); BENCH_HUB_ENV still wins, so a setting can be tried without a code change.
 */
export function hubEnv(home: string, scenario: Record<string, string> = {}): NodeJS.ProcessEnv {
  const extra = process.env.BENCH_HUB_ENV ? (JSON.parse(process.env.BENCH_HUB_ENV) as Record<string, string>) : {};
  return {
    ...process.env,
    HOME: home,
    LOG_LEVEL: 'warn',
    RALPH_MAX_WORKSPACE_BYTES: String(4 * 1024 ** 3),
    ...scenario,
    ...extra,
  };
}

export interface Hub {
  url: string;
  dataDir: string;
  daemon: Daemon;
  workspace: (user: string) => string;
  stop: () => Promise<void>;
}

export async function createKey(dataDir: string, user: string, home: string): Promise<string> {
  const r = await run('node', [HUB_BIN, 'keys', 'create', '--user', user, '--data-dir', dataDir], { env: hubEnv(home), timeoutMs: 60_000 });
  const key = r.stdout.trim().split('\n').pop()?.trim();
  if (!key) throw new Error(`keys create printed no key: ${r.stderr}`);
  return key;
}

export async function startHub(dataDir: string, home: string, scenarioEnv: Record<string, string> = {}): Promise<Hub> {
  await mkdir(dataDir, { recursive: true });
  const port = await freePort();
  const daemon = startDaemon('node', [HUB_BIN, '--port', String(port), '--data-dir', dataDir], { env: hubEnv(home, scenarioEnv) });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      'hub /healthz',
      async () => {
        if (daemon.child.exitCode !== null) throw new Error(`hub exited ${daemon.child.exitCode}: ${daemon.output().slice(-2000)}`);
        try {
          return (await got(`${url}/healthz`, { retry: { limit: 0 }, timeout: { request: 1000 } })).statusCode === 200 ? true : undefined;
        } catch {
          return undefined;
        }
      },
      60_000,
    );
  } catch (err) {
    await daemon.stop();
    throw err;
  }
  return { url, dataDir, daemon, workspace: (u) => join(dataDir, u, 'workspace'), stop: () => daemon.stop() };
}

export interface ClientArgs {
  hub: Hub;
  key: string;
  folder: string;
  stateDir: string;
  home: string;
}

function clientArgs(c: ClientArgs, once: boolean): [string[], NodeJS.ProcessEnv] {
  const args = [SYNC_BIN, '--server', c.hub.url, '--folder', c.folder, '--state-dir', c.stateDir, ...(once ? ['--once'] : [])];
  // HOME points at a scratch dir so a developer's ~/.youlab-sync/config.yaml never leaks in.
  return [args, { ...process.env, HOME: c.home, YOULAB_API_KEY: c.key }];
}

export function syncOnce(c: ClientArgs, timeoutMs: number, check = true): Promise<RunResult> {
  const [args, env] = clientArgs(c, true);
  return run('node', args, { env, timeoutMs, check });
}

export function startClient(c: ClientArgs): Daemon {
  const [args, env] = clientArgs(c, false);
  return startDaemon('node', args, { env });
}
