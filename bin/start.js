#!/usr/bin/env node
// `npm start`: the embedded default. Runs the hub on 127.0.0.1:8100 (data in ./.youlab/hub),
// makes sure user `local` has a working key, and syncs ./YouLab with the desktop app where
// Electron can start, else with the headless client (state in ./.youlab/client). The key lives in
// the OS keychain when one is available (keytar is optional: a machine without libsecret installs
// without it); without one it is only handed to the client process in memory, never written to a
// file, and a fresh key replaces it on the next start.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { register } from 'tsx/esm/api';

register();
const { accountFor, createOsKeychain, KeychainUnavailableError } = await import('../app/sync/keychain.ts');

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HUB_BIN = join(REPO, 'bin', 'youlab-hub.js');
const SYNC_BIN = join(REPO, 'bin', 'youlab-sync.js');
const HOST = '127.0.0.1';
const PORT = Number(process.env.PORT ?? 8100);
const USER = 'local';
const KEY_LABEL = 'npm start';
const cwd = process.cwd();
const HUB_DATA = resolve(cwd, '.youlab/hub');
const CLIENT_STATE = resolve(cwd, '.youlab/client');
const FOLDER = resolve(cwd, 'YouLab');
const run = promisify(execFile);

const children = new Set();

function prefixLines(stream, tag, out) {
  let buf = '';
  stream.setEncoding('utf8').on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      out.write(`${tag} ${buf.slice(0, i)}\n`);
      buf = buf.slice(i + 1);
    }
  });
}

/** Starts the hub and resolves with its URL once it listens. */
function startHubProcess() {
  mkdirSync(HUB_DATA, { recursive: true });
  const child = spawn(process.execPath, [HUB_BIN, '--host', HOST, '--port', String(PORT), '--data-dir', HUB_DATA], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  prefixLines(child.stderr, '[hub]', process.stderr);
  return new Promise((resolveUrl, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      process.stdout.write(d.replace(/^/gm, '[hub] ').replace(/\[hub\] $/, ''));
      const m = /youlab-hub listening on (http:\/\/\S+)/.exec(out);
      if (m) resolveUrl({ child, url: m[1] });
    });
    child.once('exit', (code) => reject(new Error(`the hub exited (code ${code}) before it listened; is port ${PORT} free?`)));
  });
}

async function hubCli(args) {
  const { stdout } = await run(process.execPath, [HUB_BIN, ...args, '--data-dir', HUB_DATA], { cwd });
  return stdout;
}

async function keyWorks(url, key) {
  try {
    const res = await fetch(`${url}/me`, { headers: { authorization: `Bearer ${key}` } });
    return res.ok;
  } catch {
    // unreachable or refused: the caller asks for a new key
    return false;
  }
}

/** A working key for user `local`: from the keychain when it still works, else a fresh one. */
async function localKey(url) {
  const keychain = createOsKeychain();
  const account = accountFor(url);
  let stored;
  let keychainWhyNot; // why the OS keychain is not used, when it is not
  try {
    stored = await keychain.get(account);
  } catch (e) {
    if (!(e instanceof KeychainUnavailableError)) throw e;
    keychainWhyNot = e.reason;
  }
  if (stored && (await keyWorks(url, stored))) return { key: stored, where: 'the OS keychain' };

  // Revoke keys earlier starts made (a key that was never stored must not stay valid).
  const rows = JSON.parse(await hubCli(['keys', 'list', '--json']));
  for (const r of rows) {
    if (r.label === KEY_LABEL && r.user_id === USER && !r.revoked) await hubCli(['keys', 'revoke', r.id]);
  }
  const key = (await hubCli(['keys', 'create', '--user', USER, '--label', KEY_LABEL])).trim();
  if (!keychainWhyNot) {
    try {
      await keychain.set(account, key);
      return { key, where: 'the OS keychain (new key)' };
    } catch (e) {
      if (!(e instanceof KeychainUnavailableError)) throw e;
      keychainWhyNot = e.reason;
    }
  }
  // Never written anywhere: the key is handed to the client process only (YOULAB_API_KEY).
  console.log(`[start] the OS keychain is not used: ${keychainWhyNot}. The API key is kept in memory only and handed to the client; a new one replaces it on the next start.`);
  return { key, where: 'memory only (no OS keychain; a new key is made on every start)' };
}

/**
 * Why the desktop app cannot start here, or undefined when it can. Electron's binary is
 * downloaded on first run; without internet access (or with YOULAB_HEADLESS=1) it is absent.
 */
function desktopUnavailableReason(keyWhere) {
  if (process.env.YOULAB_HEADLESS === '1') return 'YOULAB_HEADLESS=1 is set';
  const electronDir = join(REPO, 'node_modules', 'electron');
  if (!existsSync(join(electronDir, 'path.txt')) || !existsSync(join(electronDir, 'dist'))) {
    return 'the Electron binary is not installed (node_modules/electron/dist is missing: it is downloaded on first run and this machine has no internet access)';
  }
  if (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY && process.platform === 'linux') return 'no display (DISPLAY is not set)';
  if (!keyWhere.startsWith('the OS keychain')) return 'no OS keychain to hand the API key to the desktop app';
  return undefined;
}

/** The desktop app, configured through its own config.yaml for this embedded hub; the key is already in the keychain. */
async function startDesktop({ url }) {
  mkdirSync(FOLDER, { recursive: true });
  const configPath = join(CLIENT_STATE, 'desktop-config.yaml');
  mkdirSync(CLIENT_STATE, { recursive: true });
  writeFileSync(
    configPath,
    `server:\n  url: ${JSON.stringify(url)}\nsync:\n  local_folder: ${JSON.stringify(FOLDER)}\n  device: ${JSON.stringify(hostname())}\n`,
  );
  await run(process.execPath, ['--import', 'tsx', join(REPO, 'scripts', 'build-app.ts')], { cwd: REPO });
  const electronBin = readFileSync(join(REPO, 'node_modules', 'electron', 'path.txt'), 'utf8').trim();
  const child = spawn(join(REPO, 'node_modules', 'electron', 'dist', electronBin), [REPO], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, YOULAB_SYNC_CONFIG: configPath },
  });
  children.add(child);
  prefixLines(child.stdout, '[app]', process.stdout);
  prefixLines(child.stderr, '[app]', process.stderr);
  return child;
}

/** The local client: the desktop app where Electron can start, else the headless `youlab-sync`. */
async function startLocalSide({ url, key, where }) {
  const reason = desktopUnavailableReason(where);
  if (!reason) {
    try {
      return { child: await startDesktop({ url }), kind: 'desktop app' };
    } catch (e) {
      console.error(`[start] the desktop app could not start (${e.message}); running the headless client instead`);
    }
  } else {
    console.log(`[start] desktop app not started: ${reason}. Running the headless client instead.`);
  }
  return { child: startClient({ url, key }), kind: 'headless client' };
}

/** The headless client (`youlab-sync`). */
function startClient({ url, key }) {
  mkdirSync(FOLDER, { recursive: true });
  const child = spawn(
    process.execPath,
    [SYNC_BIN, '--server', url, '--folder', FOLDER, '--state-dir', CLIENT_STATE, '--device', hostname()],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, YOULAB_API_KEY: key } },
  );
  children.add(child);
  prefixLines(child.stdout, '[sync]', process.stdout);
  prefixLines(child.stderr, '[sync]', process.stderr);
  return child;
}

function stopAll(signal = 'SIGTERM') {
  return Promise.all(
    [...children].map(
      (c) =>
        new Promise((r) => {
          if (c.exitCode !== null || c.signalCode !== null) return r();
          const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
          c.once('exit', () => {
            clearTimeout(t);
            r();
          });
          c.kill(signal);
        }),
    ),
  );
}

async function main() {
  const { child: hub, url } = await startHubProcess();
  const { key, where } = await localKey(url);
  const { child: client, kind } = await startLocalSide({ url, key, where });
  console.log(
    [
      '',
      'YouLab Sync is running.',
      `  hub:           ${url}  (data in ${HUB_DATA})`,
      `  synced folder: ${FOLDER}  (by the ${kind})`,
      `  client state:  ${CLIENT_STATE}`,
      `  user:          ${USER}; key kept in ${where}`,
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  let stopping = false;
  const shutdown = async (code) => {
    if (stopping) return;
    stopping = true;
    console.log('stopping...');
    // The client first, so it does not see the hub vanish mid-round.
    children.delete(hub);
    await stopAll();
    children.add(hub);
    await stopAll();
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  hub.once('exit', (code) => {
    if (!stopping) console.error(`the hub stopped unexpectedly (code ${code})`);
    void shutdown(1);
  });
  client.once('exit', (code) => {
    if (!stopping) console.error(`the ${kind} stopped unexpectedly (code ${code})`);
    void shutdown(1);
  });
}

main().catch(async (e) => {
  console.error(`error: ${e.message}`);
  await stopAll();
  process.exit(1);
});
