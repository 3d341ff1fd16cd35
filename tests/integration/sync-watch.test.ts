// The long-running client: watcher, change feed, reconnect. Real hub, real `youlab-sync` processes.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type HubHandle } from '../helpers/hub.ts';
import { makeClient, makeRoot, runOnce, startWatching, type TestClient, type Watching } from '../helpers/client.ts';

let hub: HubHandle;
let root: { dir: string; cleanup(): Promise<void> };
let n = 0;
const running: Watching[] = [];

beforeAll(async () => {
  hub = await startHub();
  root = await makeRoot();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((w) => w.stop()));
});
afterAll(async () => {
  await hub?.stop();
  await root?.cleanup();
});

async function user(): Promise<{ key: string; ws: string; dir: string }> {
  const id = `w${++n}`;
  const key = await hub.createKey(id);
  return { key, ws: join(hub.dataDir, id, 'workspace'), dir: join(root.dir, id) };
}

function watch(c: TestClient): Watching {
  const w = startWatching(c.opts());
  running.push(w);
  return w;
}

async function until(cond: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const has = (p: string, content: string) => async () => existsSync(p) && (await readFile(p, 'utf8')) === content;

describe('watch mode', { timeout: 120_000 }, () => {
  it('the agent writes straight into the workspace and the file appears in the local folder', async () => {
    const { key, ws, dir } = await user();
    const a = await makeClient(dir, 'alpha', hub.url, key);
    const w = watch(a);
    await w.waitFor(/status idle/);
    await mkdir(join(ws, 'reports'), { recursive: true });
    await writeFile(join(ws, 'reports/agent.md'), 'written by the agent');
    await until(has(join(a.folder, 'reports/agent.md'), 'written by the agent'), 'the agent file to arrive');
    expect(w.output()).toMatch(/down reports\/agent\.md ok/);
  });

  it('a local edit is picked up by the watcher and reaches a second watching client through the feed', async () => {
    const { key, ws, dir } = await user();
    const a = await makeClient(dir, 'alpha', hub.url, key);
    const b = await makeClient(dir, 'beta', hub.url, key);
    const wa = watch(a);
    const wb = watch(b);
    await Promise.all([wa.waitFor(/status idle/), wb.waitFor(/status idle/)]);
    await a.write('live.txt', 'typed on alpha');
    await until(has(join(ws, 'live.txt'), 'typed on alpha'), 'the upload');
    await until(has(join(b.folder, 'live.txt'), 'typed on alpha'), 'beta to receive it');
    await b.write('live.txt', 'answered on beta');
    await until(has(join(a.folder, 'live.txt'), 'answered on beta'), 'alpha to receive the answer');
    // Its own download does not echo back as an upload from alpha.
    await sleep(1000);
    expect(wa.output().match(/up live\.txt ok/g)).toHaveLength(1);
    expect(await wa.stop()).toBe(0);
    expect(await wb.stop()).toBe(0);
  });

  it('a second client on the same state dir is refused with a clear message while the first runs', async () => {
    const { key, dir } = await user();
    const a = await makeClient(dir, 'alpha', hub.url, key);
    const w = watch(a);
    await w.waitFor(/status idle/);
    const second = await runOnce(a.opts());
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/another youlab-sync \(pid \d+\) is using the state dir/);
    expect(await w.stop()).toBe(0);
    // Once the first has stopped, the state dir is free again.
    const third = await runOnce(a.opts());
    expect(third.code, third.stderr).toBe(0);
  });

  it('hub unreachable for a while, edits on both sides meanwhile, then reconnect: both converge', { timeout: 90_000 }, async () => {
    const { key, ws, dir } = await user();
    const a = await makeClient(dir, 'alpha', hub.url, key);
    await a.write('base.txt', 'base');
    const w = watch(a);
    await until(has(join(ws, 'base.txt'), 'base'), 'first upload');
    await hub.kill();
    await a.write('offline-edit.txt', 'made while the hub was down');
    await w.waitFor(/status offline/, 30_000);
    await writeFile(join(ws, 'hub-side.txt'), 'made on the hub meanwhile');
    await hub.restart();
    expect(hub.url).toBe(a.opts().server);
    await until(has(join(ws, 'offline-edit.txt'), 'made while the hub was down'), 'the offline edit to upload', 60_000);
    await until(has(join(a.folder, 'hub-side.txt'), 'made on the hub meanwhile'), 'the hub edit to arrive', 60_000);
  });
});
