// Syncthing 1.19 as the reference for a continuous sync tool: two instances on loopback, each
// with its own home, configured before the first start (tools/syncthing-config.ts). Completion
// comes from the REST API (/rest/db/status, /rest/db/completion), never from polling the disk.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import got from 'got';
import { freshDir, linkedCopy, treeOf, type BenchContext } from '../context.ts';
import type { NetWatch } from '../netcheck.ts';
import { freePort, run, sleep, startDaemon, waitFor, type Daemon } from '../procs.ts';
import { measurePropagation, waitForContent, writeEdit } from '../propagation.ts';
import { RssSampler } from '../rss.ts';
import { verifyReplica, type Tree } from '../trees.ts';
import { deviceIdOf, loopbackConfig } from './syncthing-config.ts';

const FOLDER = 'bench';

interface Instance {
  name: string;
  id: string;
  home: string;
  root: string;
  api: string;
  apiKey: string;
  daemon?: Daemon;
}

function stEnv(home: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    HOME: home,
    STNODEFAULTFOLDER: '1',
    STNOUPGRADE: '1',
    STNORESTART: '1',
    // Nothing of ours should leak in: no proxies that could point outside.
    all_proxy: '',
    http_proxy: '',
    https_proxy: '',
  };
}

async function rest<T>(inst: Instance, method: 'GET' | 'POST' | 'PATCH', path: string, json?: unknown): Promise<T> {
  return got(`${inst.api}${path}`, {
    method,
    headers: { 'X-API-Key': inst.apiKey },
    json,
    timeout: { request: 600_000 },
    retry: { limit: 0 },
  }).json<T>();
}

interface FolderStatus {
  state: string;
  localFiles: number;
  localBytes: number;
  globalFiles: number;
  needTotalItems: number;
}

async function setUp(ctx: BenchContext, tree: Tree, tag: string, delayS: number): Promise<[Instance, Instance]> {
  const homes = join(ctx.work, 'syncthing', tag);
  // A reused work dir holds last run's homes; `generate` would keep their config and certs.
  await rm(homes, { recursive: true, force: true });
  const a: Instance = { name: `${tag}-a`, id: '', home: join(homes, 'a'), root: await linkedCopy(ctx, tree, `st-${tag}-a`), api: '', apiKey: '' };
  const b: Instance = { name: `${tag}-b`, id: '', home: join(homes, 'b'), root: await freshDir(ctx, `st-${tag}-b`), api: '', apiKey: '' };
  const ports = { a: await freePort(), b: await freePort(), guiA: await freePort(), guiB: await freePort() };
  for (const inst of [a, b]) {
    await mkdir(join(inst.root, '.stfolder'), { recursive: true });
    await run('syncthing', ['generate', `--home=${inst.home}`, '--no-default-folder', '--skip-port-probing'], { env: stEnv(inst.home) });
    inst.id = deviceIdOf(await readFile(join(inst.home, 'config.xml'), 'utf8'));
    inst.apiKey = randomBytes(16).toString('hex');
  }
  for (const [self, peer, port, peerPort, gui] of [
    [a, b, ports.a, ports.b, ports.guiA],
    [b, a, ports.b, ports.a, ports.guiB],
  ] as const) {
    const xml = await readFile(join(self.home, 'config.xml'), 'utf8');
    const conf = loopbackConfig(xml, {
      selfId: self.id,
      selfName: self.name,
      listenPort: port,
      guiPort: gui,
      apiKey: self.apiKey,
      peer: { id: peer.id, name: peer.name, port: peerPort },
      folder: { id: FOLDER, path: self.root, watcherDelayS: delayS },
    });
    await writeFile(join(self.home, 'config.xml'), conf);
    self.api = `http://127.0.0.1:${gui}`;
  }
  return [a, b];
}

function start(inst: Instance): void {
  inst.daemon = startDaemon(
    'syncthing',
    ['serve', `--home=${inst.home}`, '--no-browser', '--no-restart', '--no-upgrade', '--logflags=0'],
    { env: stEnv(inst.home) },
  );
}

async function status(inst: Instance): Promise<FolderStatus | undefined> {
  try {
    return await rest<FolderStatus>(inst, 'GET', `/rest/db/status?folder=${FOLDER}`);
  } catch {
    return undefined;
  }
}

async function waitInSync(a: Instance, b: Instance, tree: Tree, extraFiles: number, timeoutMs: number, everyMs = 250): Promise<void> {
  await waitFor(
    `Syncthing ${b.name} to hold ${tree.files + extraFiles} files`,
    async () => {
      for (const inst of [a, b]) {
        if (inst.daemon && inst.daemon.child.exitCode !== null) throw new Error(`Syncthing ${inst.name} exited: ${inst.daemon.output().slice(-1500)}`);
      }
      const s = await status(b);
      if (!s || s.state !== 'idle' || s.needTotalItems !== 0 || s.localFiles !== tree.files + extraFiles) return undefined;
      const c = await rest<{ completion: number }>(b, 'GET', `/rest/db/completion?folder=${FOLDER}`);
      return c.completion >= 100 ? true : undefined;
    },
    timeoutMs,
    everyMs,
  );
}

async function stopAll(insts: Instance[]): Promise<void> {
  await Promise.all(insts.map((i) => i.daemon?.stop()));
}

/** First sync, no-change rounds, and (on the mixed tree) propagation with both watcher delays. */
export async function syncthingScenarios(ctx: BenchContext, which: 'mixed' | 'many', net: NetWatch, pids: number[]): Promise<void> {
  const { res, opts, log } = ctx;
  const tree = treeOf(ctx, which);
  const [a, b] = await setUp(ctx, tree, which, 10);
  try {
    const t0 = performance.now();
    start(a);
    start(b);
    pids.push(a.daemon!.pid, b.daemon!.pid);
    await sleep(2000);
    await net.snap();
    await waitInSync(a, b, tree, 0, 30 * 60_000);
    const s = (performance.now() - t0) / 1000;
    await net.snap();
    await verifyReplica(tree, b.root, ['.stfolder', '.stversions']);
    res.add(`first.${which}.s`, 'syncthing', [s], 'Syncthing: from start of both instances (scan, hash, index exchange, pull) to /rest/db/status idle with need 0 on B');
    res.add(`first.${which}.MBps`, 'syncthing', [tree.bytes / 1e6 / s]);
    res.add(`first.${which}.fps`, 'syncthing', [tree.files / s]);
    if (which === 'mixed') res.add('rss.first.mixed.MiB', 'syncthing', [a.daemon!.rss.peakMiB() + b.daemon!.rss.peakMiB()], 'Syncthing: both instances added, each its monitor + serve process');
    log(`  syncthing first sync ${tree.spec.name}: ${s.toFixed(1)} s`);

    const rounds: number[] = [];
    for (let i = 0; i < opts.repeats; i++) {
      const r0 = performance.now();
      await rest(a, 'POST', `/rest/db/scan?folder=${FOLDER}`);
      await waitFor('A idle', async () => ((await status(a))?.state === 'idle' ? true : undefined), 600_000, 10);
      rounds.push(performance.now() - r0);
    }
    res.add(`nochange.${which}.ms`, 'syncthing', rounds, 'Syncthing: POST /rest/db/scan on A until the folder is idle again');
    log(`  syncthing no-change ${tree.spec.name}: ${rounds.map((r) => r.toFixed(0)).join(', ')} ms`);

    if (which !== 'mixed') return;
    // Default watcher delay (10 s), one edit at a time. Each takes ~11 s, so fewer edits than the
    // other runs (--syncthing-default-edits). Overlapping edits are no shortcut: the watcher holds a
    // folder with ongoing changes for up to 6x the delay (edits 1 s apart measured p50 36 s, max 60 s).
    const watch = new RssSampler(a.daemon!.pid, 200, 'VmRSS').start();
    const watchB = new RssSampler(b.daemon!.pid, 200, 'VmRSS').start();
    const slow = await measurePropagation({
      tag: 'st10',
      edits: opts.syncthingDefaultEdits,
      write: (e) => writeEdit(a.root, e),
      arrived: (e) => waitForContent(join(b.root, e.rel), e.content, 120_000, 25),
    });
    await net.snap();
    res.add('prop.ab.ms', 'syncthing', slow, `Syncthing, fsWatcherDelayS 10 (default): one edit at a time, ${slow.length} edits (each takes ~11 s)`);
    log(`  syncthing propagation (10 s delay): ${slow.length} edits`);
    await waitInSync(a, b, tree, slow.length, 120_000);

    for (const inst of [a, b]) await rest(inst, 'PATCH', `/rest/config/folders/${FOLDER}`, { fsWatcherDelayS: 1 });
    await sleep(2000);
    for (const inst of [a, b]) await waitFor('idle after config change', async () => ((await status(inst))?.state === 'idle' ? true : undefined), 120_000);
    const fast = await measurePropagation({
      tag: 'st1',
      edits: opts.edits,
      write: (e) => writeEdit(a.root, e),
      arrived: (e) => waitForContent(join(b.root, e.rel), e.content, 60_000),
    });
    await net.snap();
    res.add('prop.ab.ms', 'syncthing-1s', fast, 'Syncthing, fsWatcherDelayS 1: one edit at a time');
    res.add('rss.watch.MiB', 'syncthing', [watch.stop(), watchB.stop()], 'Syncthing: VmRSS peak of each instance (sender A, receiver B; monitor + serve process) while watching and propagating edits');
    log(`  syncthing propagation (1 s delay): ${fast.length} edits`);
  } catch (err) {
    log(`  syncthing failed; last output of B:\n${b.daemon?.output().slice(-3000) ?? ''}`);
    throw err;
  } finally {
    await stopAll([a, b]);
  }
}
