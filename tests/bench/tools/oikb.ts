// oikb 0.6.0 (Open WebUI's own "sync anything to a knowledge base" CLI, PyPI) as the reference of
// the knowledge-base section. Installed by scripts/oikb-install.sh into its own venv; configured
// before its first start through its config file (URL and token of the one local Open WebUI) in a
// config dir and HOME of its own, with a small environment: no proxy but a local black hole for
// anything that is not 127.0.0.1, so a stray outside request would fail at once, on this machine.
// oikb itself has no telemetry or update check (read in its sources: only connectors other than
// the filesystem one talk to other hosts); `ss -tunap` is sampled while it runs to prove it.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { NetWatch } from '../netcheck.ts';
import { run, startDaemon, type Daemon, type RunResult } from '../procs.ts';

export const OIKB_VENV = process.env.OIKB_VENV ?? join(homedir(), '.cache', 'youlab-sync', 'oikb-venv');
const OIKB = join(OIKB_VENV, 'bin', 'oikb');
const INSTALL = resolve(import.meta.dirname, '../../../scripts/oikb-install.sh');

/** Installs oikb when its venv is missing (a few seconds from the package index); the reason when that fails. */
export async function ensureOikb(log: (m: string) => void): Promise<string | undefined> {
  if (existsSync(OIKB)) return undefined;
  log(`  oikb: not in ${OIKB_VENV}; running scripts/oikb-install.sh`);
  const r = await run('bash', [INSTALL], { check: false, timeoutMs: 10 * 60_000 });
  if (r.code === 0 && existsSync(OIKB)) return undefined;
  return `not installed: scripts/oikb-install.sh exited ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').pop() ?? ''}`;
}

/** One oikb "installation": its HOME and config dir, pointed at one Open WebUI with one token. */
export interface Oikb {
  home: string;
  env: NodeJS.ProcessEnv;
}

/** Writes oikb's config (url, token) before it ever runs, and the environment it runs in. */
export async function configureOikb(home: string, url: string, token: string): Promise<Oikb> {
  const configDir = join(home, '.config', 'oikb');
  await mkdir(configDir, { recursive: true });
  await writeFile(join(configDir, 'config.yaml'), `url: ${url}\ntoken: ${token}\n`, { mode: 0o600 });
  const env: NodeJS.ProcessEnv = {};
  for (const k of ['PATH', 'LANG', 'LC_ALL', 'TZ']) if (process.env[k]) env[k] = process.env[k];
  const blackhole = 'http://127.0.0.1:9';
  Object.assign(env, {
    HOME: home,
    OIKB_CONFIG_DIR: configDir,
    // httpx honours these: anything but loopback goes to a closed local port.
    HTTP_PROXY: blackhole,
    HTTPS_PROXY: blackhole,
    ALL_PROXY: blackhole,
    http_proxy: blackhole,
    https_proxy: blackhole,
    all_proxy: blackhole,
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
    DO_NOT_TRACK: '1',
    NO_COLOR: '1',
    TERM: 'dumb',
    PYTHONDONTWRITEBYTECODE: '1',
  });
  return { home, env };
}

/** Snapshots the sockets of a running command (and its children) every second until it exits. */
function watchSockets(net: NetWatch, pids: number[]): { onSpawn: (pid: number) => void; stop: () => Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let last: Promise<void> = Promise.resolve();
  return {
    onSpawn: (pid) => {
      pids.push(pid);
      timer = setInterval(() => (last = net.snap().catch(() => undefined)), 1000);
    },
    stop: async () => {
      clearInterval(timer);
      await last;
    },
  };
}

/** `oikb -q sync DIR --kb-id KB --concurrency W`: one incremental sync of a folder, to its exit. */
export async function oikbSync(o: Oikb, dir: string, kbId: string, workers: number, net: NetWatch, pids: number[]): Promise<RunResult> {
  const sockets = watchSockets(net, pids);
  try {
    return await run(OIKB, ['-q', 'sync', dir, '--kb-id', kbId, '--concurrency', String(workers)], {
      env: o.env,
      cwd: o.home,
      timeoutMs: 60 * 60_000,
      onSpawn: sockets.onSpawn,
    });
  } finally {
    await sockets.stop();
  }
}

/** `oikb -q watch DIR --kb-id KB`: its watcher (watchdog, 1 s debounce, its default) until stopped. */
export function oikbWatch(o: Oikb, dir: string, kbId: string, pids: number[]): Daemon {
  const d = startDaemon(OIKB, ['-q', 'watch', dir, '--kb-id', kbId], { env: o.env, cwd: o.home });
  pids.push(d.pid);
  return d;
}

/** Interpreter start-up and imports alone (`oikb --version`): the floor under each `oikb sync`. */
export async function oikbStartupMs(o: Oikb): Promise<number> {
  return (await run(OIKB, ['--version'], { env: o.env, cwd: o.home })).ms;
}
