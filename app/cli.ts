// `youlab-sync`: the sync engine without a window. One-shot (`--once`) or long-running.
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { HubClient } from './sync/hub-client.ts';
import { HubError } from './sync/hub-errors.ts';
import { loadConfig } from './sync/config.ts';
import { accountFor, createOsKeychain, KeychainUnavailableError } from './sync/keychain.ts';
import { resolveApiKey, type KeySource } from './sync/key-source.ts';
import { engineOptionsFrom, resolveOptions, UsageError, type ResolvedOptions } from './sync/options.ts';
import { SyncEngine } from './sync/engine.ts';
import { disconnectDevice, signInWithOpenWebUI } from './sync/sign-in.ts';
import { RoundError, type GuardAnswer } from './sync/round-context.ts';
import type { RoundSummary } from './engine-api/types.ts';
import { fetchKbStatus, kbReport } from './kb-report.ts';
import { kbCounts } from '../shared/kb-advice.ts';

const USAGE = `usage:
  youlab-sync --server <url> --folder <dir> [--state-dir <dir>] [--device <name>] [--once [--restore-deleted | --allow-mass-delete]]
              [--max-rate <bytes/s>] [--user <id>  (whose workspace; default: the key's user)]
              [--key-file <file>  (the API key on its first line; the file must be mode 0600)]
  youlab-sync login --server <url>            (reads the API key from stdin, stores it in the OS keychain)
  youlab-sync login --server <url> --openwebui <url> [--device <name>]
              (sign in with Open WebUI: reads your Open WebUI API key, from its Settings > Account, on
               stdin; the hub makes a key for this device and it goes to the OS keychain)
  youlab-sync conflicts [--server <url> --folder <dir> | --state-dir <dir>]
  youlab-sync resolve <path> --keep mine|theirs|both [--server <url> --folder <dir>]
  youlab-sync versions <path> [--server <url> --folder <dir>]      (kept versions on the hub, newest first: id, kept at, size, reason, hash, by whom)
  youlab-sync restore <path> --version <id> [--server <url> --folder <dir>]   (puts it back, then syncs)
  youlab-sync kb-status [--json] [--confirm-deletes] [--server <url>]
              (the hub's sync of the workspace into Open WebUI: counts, last round, failed and held files;
               --confirm-deletes lets through the KB deletes the hub's guard holds)

The API key comes from --key-file, else YOULAB_API_KEY, else the OS keychain (never written to a file). Settings also come from
~/.youlab-sync/config.yaml (YOULAB_SYNC_CONFIG overrides the path); flags win.

exit codes: 0 in sync; 1 usage or internal error; 2 key refused (401/403); 3 some files not synced
(too large, name refused, quota); 4 stopped by the mass-delete guard or the folder is missing (answer
the guard with --once --restore-deleted to bring the files back, or --once --allow-mass-delete to
delete them on the other side too); 5 hub unreachable; 6 did not converge (files kept changing).`;

const EXIT = { ok: 0, usage: 1, auth: 2, notSynced: 3, guard: 4, network: 5, notConverged: 6 } as const;

function summaryLine(s: RoundSummary): string {
  return `uploaded ${s.uploaded}, downloaded ${s.downloaded}, deleted ${s.deleted}, conflicts ${s.conflicts}`;
}

function parseCli(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      server: { type: 'string' },
      folder: { type: 'string' },
      'state-dir': { type: 'string' },
      device: { type: 'string' },
      user: { type: 'string' },
      once: { type: 'boolean', default: false },
      'allow-mass-delete': { type: 'boolean', default: false },
      'restore-deleted': { type: 'boolean', default: false },
      keep: { type: 'string' },
      version: { type: 'string' },
      'max-rate': { type: 'string' },
      'key-file': { type: 'string' },
      json: { type: 'boolean', default: false },
      'confirm-deletes': { type: 'boolean', default: false },
      openwebui: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCli(argv);
  if (values.help) {
    console.log(USAGE);
    return EXIT.ok;
  }
  const command = positionals[0] ?? 'sync';
  const flags = {
    ...(values.server ? { server: values.server } : {}),
    ...(values.folder ? { folder: values.folder } : {}),
    ...(values['state-dir'] ? { stateDir: values['state-dir'] } : {}),
    ...(values.device ? { device: values.device } : {}),
    ...(values.user ? { user: values.user } : {}),
  };
  const config = await loadConfig();
  const keyFile = values['key-file'];
  const apiKey = async (server: string): Promise<string> => (await keySource(server, keyFile)).key;

  if (command === 'login') {
    const server = values.server ?? config.server.url;
    if (!server) throw new UsageError('login needs --server <url>');
    if (values.openwebui !== undefined) return loginWithOpenWebUI(server, values.openwebui, values.device ?? config.sync.device ?? hostname());
    return login(server);
  }
  if (command === 'kb-status') {
    const server = values.server ?? config.server.url;
    if (!server) throw new UsageError('kb-status needs --server <url>');
    return kbStatus(server, await apiKey(server), values.user, { json: values.json, confirm: values['confirm-deletes'] });
  }
  const opts = resolveOptions(flags, config);
  const maxRate = Number(values['max-rate'] ?? process.env.YOULAB_SYNC_MAX_RATE ?? 0);
  if (!Number.isFinite(maxRate) || maxRate < 0) throw new UsageError('--max-rate must be a number of bytes per second');

  if (command === 'conflicts') {
    const engine = new SyncEngine(engineOptions(opts, 'unused', maxRate, false));
    const list = await engine.listConflicts();
    if (list.length === 0) console.log('no conflicts');
    for (const c of list) console.log(`${c.path}\t${c.copyPath}\t(${c.device}, ${c.detectedAt})`);
    return EXIT.ok;
  }
  if (command === 'resolve') {
    const path = positionals[1];
    const keep = values.keep;
    if (!path || (keep !== 'mine' && keep !== 'theirs' && keep !== 'both')) {
      throw new UsageError('usage: youlab-sync resolve <path> --keep mine|theirs|both');
    }
    const engine = new SyncEngine(engineOptions(opts, await apiKey(opts.server), maxRate, false));
    await engine.resolve(path, keep);
    console.log(`resolved ${path}: kept ${keep}`);
    return once(engine);
  }
  if (command === 'versions' || command === 'restore') return versions(command, positionals[1], values.version, opts, maxRate, apiKey);
  if (command !== 'sync') throw new UsageError(`unknown command '${command}'\n${USAGE}`);

  const answer = guardAnswer(values['allow-mass-delete'], values['restore-deleted'], values.once);
  const key = await keySource(opts.server, keyFile);
  const engine = new SyncEngine(engineOptions(opts, key.key, maxRate, !values.once));
  if (values.once) return once(engine, answer);
  return live(engine, opts, key);
}

/** `versions <path>` lists the kept versions; `restore <path> --version <id>` puts one back, then syncs. */
async function versions(
  command: 'versions' | 'restore',
  path: string | undefined,
  version: string | undefined,
  opts: ResolvedOptions,
  maxRate: number,
  apiKey: (server: string) => Promise<string>,
): Promise<number> {
  if (!path) throw new UsageError(`usage: youlab-sync ${command} <path>${command === 'restore' ? ' --version <id>' : ''}`);
  const engine = new SyncEngine(engineOptions(opts, await apiKey(opts.server), maxRate, false));
  if (command === 'versions') {
    try {
      const list = await engine.listVersions(path);
      if (list.length === 0) console.log(`no kept versions of ${path}`);
      for (const v of list) console.log(`${v.id}\t${v.kept_at}\t${v.size}\t${v.reason}\t${v.hash}\t${v.origin ?? ''}`);
      return EXIT.ok;
    } catch (e) {
      return reportFailure(e);
    } finally {
      await engine.stop();
    }
  }
  if (!version) throw new UsageError('usage: youlab-sync restore <path> --version <id> (ids: youlab-sync versions <path>)');
  try {
    const r = await engine.restoreVersion(path, version);
    console.log(`restored ${r.path} to version ${version} (${r.hash})`);
  } catch (e) {
    await engine.stop();
    return reportFailure(e);
  }
  return once(engine);
}

function engineOptions(o: ResolvedOptions, key: string, maxRate: number, live: boolean) {
  return engineOptionsFrom(o, key, { live, bytesPerSecond: maxRate });
}

function keySource(server: string, keyFile: string | undefined): Promise<KeySource> {
  return resolveApiKey({ server, keyFile, keychain: createOsKeychain() });
}

/** The answer to the mass-delete guard given on the command line, for one round (`--once`). */
function guardAnswer(allowDelete: boolean, restoreDeleted: boolean, once: boolean): GuardAnswer | undefined {
  if (allowDelete && restoreDeleted) throw new UsageError('--allow-mass-delete and --restore-deleted are the two answers to the guard: give one');
  const flag = allowDelete ? '--allow-mass-delete' : restoreDeleted ? '--restore-deleted' : undefined;
  if (flag && !once) throw new UsageError(`${flag} goes with --once (one round answers the guard)`);
  return allowDelete ? 'delete' : restoreDeleted ? 'restore' : undefined;
}

async function once(engine: SyncEngine, answer?: GuardAnswer): Promise<number> {
  engine.on('activity', (a) => {
    if (a.outcome !== 'ok') console.error(`${a.direction} ${a.path}: ${a.outcome}${a.detail ? ` (${a.detail})` : ''}`);
  });
  engine.on('log', (line) => console.error(line));
  let summary: RoundSummary;
  try {
    summary = answer === 'delete' ? await engine.confirmDeletes() : answer === 'restore' ? await engine.restoreDeleted() : await engine.syncNow();
  } catch (e) {
    return reportFailure(e);
  } finally {
    await engine.stop();
  }
  console.log(summaryLine(summary));
  const issues = engine.status().issues;
  for (const i of issues) console.error(`not synced: ${i.message}`);
  if (!summary.converged) {
    console.error('error: the folder did not converge (files kept changing); run again');
    return EXIT.notConverged;
  }
  return issues.length > 0 ? EXIT.notSynced : EXIT.ok;
}

function reportFailure(e: unknown): number {
  const err = e as Error;
  const hint = e instanceof RoundError && e.hint ? `\n${e.hint}` : '';
  console.error(`error: ${err.message}${hint}`);
  if (e instanceof RoundError) {
    if (e.code === 'auth') return EXIT.auth;
    if (e.code === 'mass_delete' || e.code === 'folder_missing') return EXIT.guard;
    if (e.code === 'network' || e.code === 'rate_limited') return EXIT.network;
  }
  return EXIT.usage;
}

async function live(engine: SyncEngine, opts: ResolvedOptions, key: KeySource): Promise<number> {
  const stamp = () => new Date().toISOString();
  engine.on('activity', (a) => console.log(`${stamp()} ${a.direction} ${a.path} ${a.outcome}${a.detail ? ` (${a.detail})` : ''}`));
  // Scanning/syncing flicker on every rescan; log where the engine settles and why.
  let last = '';
  engine.on('status', (s) => {
    if (s.phase === 'scanning' || s.phase === 'syncing') return;
    const line = `status ${s.phase}${s.issues[0] ? `: ${s.issues[0].message}` : ''}`;
    if (line !== last) console.log(`${stamp()} ${line}`);
    last = line;
  });
  engine.on('log', (line) => console.log(`${stamp()} ${line}`));
  console.log(`${stamp()} syncing ${opts.folder} with ${opts.server} (state in ${opts.stateDir}, device ${opts.device})`);
  console.log(`${stamp()} API key: kept in ${key.where}`);
  await engine.start();
  await new Promise<void>((resolve) => {
    const done = () => resolve();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await engine.stop();
  console.log(`${stamp()} stopped`);
  return EXIT.ok;
}

/**
 * `kb-status`: exit 0 when every file is in the KB or left out by a rule, 3 when some failed
 * (or are still on their way), 4 when the guard holds deletes; like a sync round's codes.
 */
async function kbStatus(server: string, key: string, user: string | undefined, o: { json: boolean; confirm: boolean }): Promise<number> {
  const hub = new HubClient({ baseUrl: server, apiKey: key });
  if (user) hub.setUser(user);
  try {
    if (o.confirm) {
      const r = await hub.confirmKbDeletes();
      if (r.running) console.log('the hub is applying the deletes (a long round); run kb-status again shortly');
      else console.log(`${r.deleted} deleted${r.guard ? `; still held: ${r.guard}` : ''}`);
    }
    const s = await fetchKbStatus(hub, o.json ? undefined : ['failed', 'held']);
    if (o.json) console.log(JSON.stringify(s, null, 2));
    else for (const line of kbReport(s)) console.log(line);
    const c = kbCounts(s);
    return c.held > 0 ? EXIT.guard : c.failed > 0 ? EXIT.notSynced : EXIT.ok;
  } catch (e) {
    if (e instanceof HubError) {
      console.error(`error: ${e.message}${e.status ? ` (HTTP ${e.status})` : ''}`);
      return e.kind === 'auth' || e.kind === 'forbidden' ? EXIT.auth : e.kind === 'network' ? EXIT.network : EXIT.usage;
    }
    throw e;
  }
}

async function login(server: string): Promise<number> {
  const key = (await readSecret('API key: ')).trim();
  if (!key) throw new UsageError('no key given on stdin');
  const hub = new HubClient({ baseUrl: server, apiKey: key });
  let user: string | null;
  try {
    user = (await hub.me()).user_id;
  } catch (e) {
    if (e instanceof HubError && (e.kind === 'auth' || e.kind === 'forbidden')) {
      console.error(`error: the hub refused this key (${e.status}); nothing was stored`);
      return EXIT.auth;
    }
    throw e;
  }
  try {
    await createOsKeychain().set(accountFor(server), key);
  } catch (e) {
    if (!(e instanceof KeychainUnavailableError)) throw e;
    // Never fall back to writing the key somewhere else: the user chooses --key-file or YOULAB_API_KEY.
    console.error(`error: ${e.message}\nThe key is valid for ${user ?? 'a service account'}; nothing was stored.`);
    return EXIT.usage;
  }
  console.log(`stored the key for ${user ?? 'a service account'} at ${accountFor(server)} in the OS keychain`);
  return EXIT.ok;
}

async function loginWithOpenWebUI(server: string, openWebUIUrl: string, device: string): Promise<number> {
  let where: string;
  try {
    where = new URL(openWebUIUrl).origin;
  } catch {
    throw new UsageError(`--openwebui: not a URL: ${openWebUIUrl}`);
  }
  const token = (await readSecret(`Open WebUI API key (${where} > Settings > Account > API keys): `)).trim();
  if (!token) throw new UsageError('no Open WebUI API key given on stdin');
  let issued;
  try {
    issued = await signInWithOpenWebUI(server, token, device);
  } catch (e) {
    if (e instanceof HubError && e.kind === 'auth') {
      console.error(`error: ${e.message}; nothing was stored`);
      return EXIT.auth;
    }
    if (e instanceof HubError) {
      console.error(`error: sign-in failed (${e.status ?? e.kind}): ${e.message}; nothing was stored`);
      return e.kind === 'network' ? EXIT.network : EXIT.auth;
    }
    throw e;
  }
  try {
    await createOsKeychain().set(accountFor(server), issued.key);
  } catch (e) {
    if (!(e instanceof KeychainUnavailableError)) throw e;
    // Nowhere to keep the new key, and never a file by stealth: take it back so no orphan key stays valid.
    await disconnectDevice(server, issued.key, issued.key_id).catch(() => undefined); // best effort: it stays listed under Devices, revocable there
    console.error(`error: ${e.message}\nThe hub's key for this device was revoked again; nothing was stored.`);
    return EXIT.usage;
  }
  console.log(`signed in as ${issued.user_id}; this device (${device}, key ${issued.key_id}) is stored at ${accountFor(server)} in the OS keychain`);
  return EXIT.ok;
}

/** Read a line from stdin without echoing it when stdin is a terminal. */
async function readSecret(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const c of stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  }
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      for (const ch of d.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          finish();
          resolve(buf);
          return;
        }
        if (ch === '\u0003') {
          finish();
          reject(new UsageError('cancelled'));
          return;
        }
        if (ch === '\u007f') buf = buf.slice(0, -1);
        else buf += ch;
      }
    };
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    stdin.on('data', onData);
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError) console.error(`error: ${e.message}`);
    else if (e instanceof KeychainUnavailableError) console.error(`error: ${e.message}`);
    else console.error(`error: ${(e as Error).message ?? String(e)}`);
    process.exit(EXIT.usage);
  },
);
