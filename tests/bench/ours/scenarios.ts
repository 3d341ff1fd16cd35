// Our tool's scenarios, written against the hub's HTTP API and the two commands (ours/cli.ts).
// When the commands do not exist yet every row reads "not available yet"; nothing else changes.
// The knowledge-base figures are in the KB section (kb/section.ts, ours/kb.ts), against a real
// Open WebUI and oikb; they replaced the emulator rows that used to be measured here.
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import got from 'got';
import { freshDir, linkedCopy, treeOf, type BenchContext } from '../context.ts';
import { run, sleep, type Daemon } from '../procs.ts';
import { measurePropagation, waitForContent, writeEdit, type Edit } from '../propagation.ts';
import { RssSampler } from '../rss.ts';
import { measureDir, verifyReplica, type Tree } from '../trees.ts';
import { createKey, startClient, startHub, syncOnce, unavailableReason, useCompiled, type Hub } from './cli.ts';
import { FeedFollower } from './feed.ts';

const ALL_KEYS = [
  'first.mixed.s', 'first.mixed.MBps', 'first.mixed.fps', 'first.many.s', 'first.many.MBps', 'first.many.fps',
  'nochange.mixed.ms', 'nochange.many.ms', 'nochange.mixed.hub304.ms', 'nochange.many.hub304.ms', 'prop.ab.ms', 'prop.up.ms', 'prop.agent.ms',
  'rss.first.mixed.MiB', 'rss.watch.MiB', 'rss.hub100.MiB', 'hub100.s',
];
const hashOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Runs `fn`; on failure marks `keys` as failed with the reason instead of stopping the bench. */
async function part(ctx: BenchContext, name: string, keys: string[], fn: () => Promise<void>): Promise<void> {
  ctx.log(`  youlab: ${name}`);
  try {
    await fn();
  } catch (err) {
    const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
    ctx.log(`  youlab: ${name} FAILED: ${msg}`);
    for (const k of keys) ctx.res.gap(k, 'youlab', `failed: ${msg.slice(0, 160)}`);
  }
}

interface Synced {
  hub: Hub;
  key: string;
  user: string;
  folder: string;
  stateDir: string;
  home: string;
}

/** Seconds our first sync may take before it is stopped and reported as partial. */
function budgetS(ctx: BenchContext): number {
  return ctx.opts.youlabBudgetS ?? Math.max(30, Math.round(180 * ctx.opts.scale));
}

async function newHub(ctx: BenchContext, name: string, user: string): Promise<{ hub: Hub; key: string; base: string; home: string }> {
  const base = await freshDir(ctx, name);
  const home = join(base, 'home');
  await mkdir(home, { recursive: true });
  const dataDir = join(base, 'hub');
  const key = await createKey(dataDir, user, home);
  return { hub: await startHub(dataDir, home), key, base, home };
}

/**
 * First sync into an empty hub with the hub's default limits, timed. A run that outlasts the
 * budget is stopped and reported with the share it managed (the rate limit shows up here).
 */
async function firstSync(ctx: BenchContext, which: 'mixed' | 'many', tree: Tree): Promise<void> {
  const { res, opts, log } = ctx;
  const repeats = which === 'many' ? 1 : opts.repeats;
  const budget = budgetS(ctx);
  const user = `bench-${which}`;
  for (let i = 0; i < repeats; i++) {
    const { hub, key, base, home } = await newHub(ctx, `youlab-first-${which}`, user);
    try {
      const folder = await linkedCopy(ctx, tree, `youlab-first-${which}-a`);
      const r = await syncOnce({ hub, key, folder, stateDir: join(base, 'state'), home }, budget * 1000, false);
      const s = r.ms / 1000;
      if (r.code !== 0) {
        const got = await measureDir(hub.workspace(user)).catch(() => ({ files: 0, bytes: 0 }));
        const why = r.ms >= budget * 1000 - 50 ? `stopped at the ${budget} s budget` : `exited ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').pop()}`;
        res.gap(`first.${which}.s`, 'youlab', `${why}, with ${got.files} of ${tree.files} files on the hub (${(got.files / s).toFixed(1)} files/s, ${(got.bytes / 1e6 / s).toFixed(2)} MB/s)`);
        log(`  youlab first sync ${tree.spec.name}: ${why}; ${got.files}/${tree.files} files`);
        return;
      }
      res.add(`first.${which}.s`, 'youlab', [s], 'youlab: `youlab-sync --once` into an empty hub with default limits, including node start-up');
      res.add(`first.${which}.MBps`, 'youlab', [tree.bytes / 1e6 / s]);
      res.add(`first.${which}.fps`, 'youlab', [tree.files / s]);
      if (which === 'mixed') res.add('rss.first.mixed.MiB', 'youlab', [r.peakMiB + hub.daemon.rss.peakMiB()], 'youlab: client + hub peaks added');
      log(`  youlab first sync ${tree.spec.name}: ${s.toFixed(2)} s (${r.stdout.trim().split('\n').pop() ?? ''})`);
      if (i === 0) await verifyReplica(tree, hub.workspace(user));
      // Repeats only when they fit the budget.
      if (s * (repeats - i - 1) > budget) break;
    } finally {
      await hub.stop();
    }
  }
}

/**
 * A hub and a client that already agree on the tree, for the no-change and propagation parts:
 * the workspace is a copy of the tree and the client's first round only records bases (both
 * sides hold the same bytes), so these parts do not wait on a full upload.
 */
async function seeded(ctx: BenchContext, which: 'mixed' | 'many', tree: Tree): Promise<Synced> {
  const user = `bench-${which}`;
  const base = await freshDir(ctx, `youlab-seeded-${which}`);
  const home = join(base, 'home');
  await mkdir(home, { recursive: true });
  const dataDir = join(base, 'hub');
  const key = await createKey(dataDir, user, home);
  await mkdir(join(dataDir, user), { recursive: true });
  await run('cp', ['-a', tree.root, join(dataDir, user, 'workspace')]);
  const hub = await startHub(dataDir, home);
  const folder = await linkedCopy(ctx, tree, `youlab-seeded-${which}-a`);
  const s: Synced = { hub, key, user, folder, stateDir: join(base, 'state-a'), home };
  try {
    const r = await syncOnce(s, 20 * 60_000);
    ctx.log(`  youlab seeding round ${tree.spec.name} (untimed): ${(r.ms / 1000).toFixed(1)} s (${r.stdout.trim().split('\n').pop() ?? ''})`);
  } catch (err) {
    await hub.stop();
    throw err;
  }
  return s;
}

async function noChange(ctx: BenchContext, which: 'mixed' | 'many', s: Synced): Promise<void> {
  const rounds: number[] = [];
  for (let i = 0; i < ctx.opts.repeats; i++) rounds.push((await syncOnce(s, 10 * 60_000)).ms);
  ctx.res.add(`nochange.${which}.ms`, 'youlab', rounds, 'youlab: `youlab-sync --once` again, including node start-up (see nodeStartupMs in last.json)');
  ctx.log(`  youlab no-change: ${rounds.map((r) => r.toFixed(0)).join(', ')} ms`);
  await hub304(ctx, which, s);
}

/**
 * The hub's part of a no-change round: a conditional listing answered 304, which stats every
 * workspace folder (server/workspace/folder-marks.ts) and compares with its view those whose
 * mtime moved. Timed on the wire, 20 requests after one that settles the folder marks.
 */
async function hub304(ctx: BenchContext, which: 'mixed' | 'many', s: Synced): Promise<void> {
  const headers = { authorization: `Bearer ${s.key}` };
  const url = `${s.hub.url}/users/${s.user}/workspace/files`;
  const { cursor } = await got(url, { headers }).json<{ cursor: string }>();
  const conditional = () => got(url, { headers: { ...headers, 'if-none-match': `"${cursor}"` }, throwHttpErrors: false });
  const deadline = Date.now() + 30_000;
  while ((await conditional()).statusCode !== 304) {
    if (Date.now() > deadline) throw new Error('the hub never answered 304 to an unchanged listing');
    await sleep(200);
  }
  const ms: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    const r = await conditional();
    ms.push(performance.now() - t0);
    if (r.statusCode !== 304) throw new Error(`a conditional listing answered ${r.statusCode}`);
  }
  ctx.res.add(`nochange.${which}.hub304.ms`, 'youlab', ms, 'youlab hub: `GET .../files` with If-None-Match of the current cursor, answered 304 (folder marks checked), 20 requests on one connection pool');
}

async function propagation(ctx: BenchContext, tree: Tree, s: Synced): Promise<void> {
  const { res, opts } = ctx;
  // B starts from its own copy of the tree and records bases in one untimed round, as A did.
  const folderB = await linkedCopy(ctx, tree, 'youlab-seeded-mixed-b');
  const clientB = { ...s, folder: folderB, stateDir: join(s.stateDir, '..', 'state-b') };
  await syncOnce(clientB, 20 * 60_000);
  const a = startClient(s);
  const b = startClient(clientB);
  const daemons: Daemon[] = [a, b];
  const feed = new FeedFollower(s.hub.url, s.user, s.key);
  try {
    // Let both clients finish their start-up round before the clock starts.
    await sleep(3000);
    const watch = new RssSampler(a.pid, 200, 'VmRSS').start();
    await feed.start();
    const perEdit = 30_000;
    await part(ctx, 'propagation local -> hub', ['prop.up.ms'], async () => {
      const lat = await measurePropagation({
        tag: 'up',
        edits: opts.edits,
        write: (e) => writeEdit(s.folder, e),
        arrived: (e) => feed.waitFor(e.rel, hashOf(e.content), perEdit),
      });
      res.add('prop.up.ms', 'youlab', lat, 'youlab local -> hub: write in the watched folder until the hub change feed announces the new hash');
    });
    await part(ctx, 'propagation agent -> local', ['prop.agent.ms'], async () => {
      const lat = await measurePropagation({
        tag: 'agent',
        edits: opts.edits,
        write: (e: Edit) => writeEdit(s.hub.workspace(s.user), e),
        arrived: (e) => waitForContent(join(s.folder, e.rel), e.content, perEdit),
      });
      res.add('prop.agent.ms', 'youlab', lat, 'youlab agent -> local: plain write into the hub workspace folder until the bytes are in the local folder');
    });
    await part(ctx, 'propagation A -> hub -> B', ['prop.ab.ms'], async () => {
      const lat = await measurePropagation({
        tag: 'ab',
        edits: opts.edits,
        write: (e) => writeEdit(s.folder, e),
        arrived: (e) => waitForContent(join(folderB, e.rel), e.content, perEdit),
      });
      res.add('prop.ab.ms', 'youlab', lat, 'youlab A -> B: two watching clients through the hub');
    });
    res.add('rss.watch.MiB', 'youlab', [watch.stop()], 'youlab: VmRSS peak of the headless client watching the tree while propagating edits');
  } finally {
    feed.stop();
    await Promise.all(daemons.map((d) => d.stop()));
  }
}

async function hub100(ctx: BenchContext): Promise<void> {
  const base = await freshDir(ctx, 'youlab-hub100');
  const home = join(base, 'home');
  await mkdir(home, { recursive: true });
  const dataDir = join(base, 'hub');
  const users = Array.from({ length: 100 }, (_, i) => `user${String(i).padStart(3, '0')}`);
  const keys = new Map<string, string>();
  // 100 `keys create` processes would take minutes, and concurrent ones lose keys (each rewrites
  // keys.json whole), so the keys come from the same KeyStore the CLI uses, in this process.
  const { KeyStore } = await import('../../../server/auth/keys.ts');
  const store = KeyStore.forDataDir(dataDir);
  for (const u of users) keys.set(u, (await store.create({ userId: u, label: 'bench' })).key);
  const hub = await startHub(dataDir, home);
  try {
    const t0 = performance.now();
    const one = async (u: string) => {
      const headers = { authorization: `Bearer ${keys.get(u)!}` };
      const api = `${hub.url}/users/${u}/workspace`;
      await got(`${hub.url}/me`, { headers }).json();
      for (let f = 0; f < 3; f++) {
        const body = Buffer.from(`note ${f} of ${u}\n`.repeat(50));
        await got.put(`${api}/files/notes/n${f}.md`, { headers: { ...headers, 'if-none-match': '*' }, body });
      }
      const list = await got(`${api}/files`, { headers }).json<{ cursor: string }>();
      await got(`${api}/changes?since=${encodeURIComponent(list.cursor)}&wait=0`, { headers });
    };
    for (let i = 0; i < users.length; i += 10) await Promise.all(users.slice(i, i + 10).map(one));
    ctx.res.add('hub100.s', 'youlab', [(performance.now() - t0) / 1000], 'youlab hub: 100 users, each /me, 3 PUTs, a list and a change-feed read, 10 users at a time');
    hub.daemon.rss.sample();
    ctx.res.add('rss.hub100.MiB', 'youlab', [hub.daemon.rss.peakMiB()]);
  } finally {
    await hub.stop();
  }
}

export async function youlabScenarios(ctx: BenchContext, sizes: ('mixed' | 'many')[]): Promise<void> {
  const why = unavailableReason();
  if (why) {
    for (const k of ALL_KEYS) ctx.res.gap(k, 'youlab', why);
    ctx.log(`  youlab: ${why}`);
    return;
  }
  if (!ctx.opts.tsx) await useCompiled();
  ctx.res.extra.commands = ctx.opts.tsx ? 'bin/*.js (TypeScript through tsx)' : 'dist/cli/*.mjs (compiled by scripts/build-cli.ts)';
  // The floor under every `youlab-sync --once` figure: starting node (and tsx) doing nothing.
  const startup = (await run('node', ctx.opts.tsx ? ['--import', 'tsx', '-e', '0'] : ['-e', '0'])).ms;
  ctx.res.extra.nodeStartupMs = startup;
  for (const which of sizes) {
    const tree = treeOf(ctx, which);
    await part(ctx, `first sync ${tree.spec.name}`, [`first.${which}.s`, `first.${which}.MBps`, `first.${which}.fps`, ...(which === 'mixed' ? ['rss.first.mixed.MiB'] : [])], () =>
      firstSync(ctx, which, tree),
    );
    let synced: Synced | undefined;
    const later = [`nochange.${which}.ms`, `nochange.${which}.hub304.ms`, ...(which === 'mixed' ? ['prop.ab.ms', 'prop.up.ms', 'prop.agent.ms', 'rss.watch.MiB'] : [])];
    await part(ctx, `seeding ${tree.spec.name}`, later, async () => {
      synced = await seeded(ctx, which, tree);
    });
    if (!synced) continue;
    try {
      await part(ctx, `no-change round ${tree.spec.name}`, [`nochange.${which}.ms`, `nochange.${which}.hub304.ms`], () => noChange(ctx, which, synced!));
      if (which === 'mixed') await part(ctx, 'propagation', ['prop.ab.ms', 'prop.up.ms', 'prop.agent.ms', 'rss.watch.MiB'], () => propagation(ctx, tree, synced!));
    } finally {
      await synced.hub.stop();
    }
  }
  await part(ctx, 'hub serving 100 users', ['rss.hub100.MiB', 'hub100.s'], () => hub100(ctx));
}
