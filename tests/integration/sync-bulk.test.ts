// The client moves small files in bulk (server/http/bulk-routes.ts, app/sync/round.ts): a first
// sync of many small files is bound by neither round trips nor the per-user transfer limit,
// and per-file refusals inside a batch behave as they do for one-by-one transfers.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClient, makeRoot } from '../helpers/client.ts';
import { startHub, type HubHandle } from '../helpers/hub.ts';

let root: { dir: string; cleanup(): Promise<void> };
const hubs: HubHandle[] = [];

beforeAll(async () => {
  root = await makeRoot('youlab-sync-bulk-');
});
afterAll(async () => {
  for (const h of hubs) await h.stop();
  await root?.cleanup();
});

async function files(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const d of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (d.isFile()) out[join(d.parentPath, d.name).slice(dir.length + 1)] = await readFile(join(d.parentPath, d.name), 'utf8');
  }
  return out;
}

describe('bulk transfer from the client', () => {
  it('a first sync of 1,500 small files (and one large) is not throttled with the default limits, up and down', async () => {
    const hub = await startHub();
    hubs.push(hub);
    const key = await hub.createKey('alice');
    const a = await makeClient(join(root.dir, 'first'), 'a', hub.url, key);
    const b = await makeClient(join(root.dir, 'first'), 'b', hub.url, key);
    for (let d = 0; d < 15; d++) for (let f = 0; f < 100; f++) await a.write(`d${d}/f${f}.txt`, `file ${d}/${f}\n`);
    await a.write('big.bin', 'B'.repeat(300 * 1024));

    // Default limit: 1,200 transfer requests a minute. One request per file would hit it.
    const up = await a.once({ timeoutMs: 240_000 });
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout + up.stderr).not.toMatch(/rate.limit/i);
    const ws = join(hub.dataDir, 'alice', 'workspace');
    const local = await files(a.folder);
    expect(Object.keys(local)).toHaveLength(1501);
    expect(await files(ws)).toEqual(local);

    const down = await b.once({ timeoutMs: 240_000 });
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout + down.stderr).not.toMatch(/rate.limit/i);
    expect(await files(b.folder)).toEqual(local);
  }, 600_000);

  it('per-file refusals inside a batch: a 413 file is reported, the rest of the batch lands', async () => {
    const hub = await startHub({ env: { RALPH_MAX_FILE_BYTES: '1000' } });
    hubs.push(hub);
    const key = await hub.createKey('alice');
    const a = await makeClient(join(root.dir, 'refuse'), 'a', hub.url, key);
    for (let i = 0; i < 20; i++) await a.write(`small/${i}.txt`, `small ${i}`);
    await a.write('small/too-big.txt', 'x'.repeat(2000));
    const r = await a.once({ timeoutMs: 120_000 });
    expect(r.stdout + r.stderr).toMatch(/too-big\.txt/);
    const ws = await files(join(hub.dataDir, 'alice', 'workspace'));
    expect(Object.keys(ws).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `small/${i}.txt`).sort());
    expect(ws['small/7.txt']).toBe('small 7');
  }, 240_000);

  it('paths another device created first end as conflicts while the new files of the same batch land, nothing lost', async () => {
    const hub = await startHub();
    hubs.push(hub);
    const key = await hub.createKey('alice');
    const a = await makeClient(join(root.dir, 'cond'), 'a', hub.url, key);
    const b = await makeClient(join(root.dir, 'cond'), 'b', hub.url, key);
    for (let i = 0; i < 10; i++) {
      await a.write(`shared/${i}.txt`, `from a ${i}`);
      await b.write(`shared/${i}.txt`, `from b ${i}`);
      await b.write(`only-b/${i}.txt`, `b only ${i}`);
    }
    expect((await a.once()).code).toBe(0);
    const r = await b.once({ timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    const ws = await files(join(hub.dataDir, 'alice', 'workspace'));
    for (let i = 0; i < 10; i++) {
      expect(ws[`shared/${i}.txt`]).toBe(`from a ${i}`);
      expect(ws[`only-b/${i}.txt`]).toBe(`b only ${i}`);
      // B's bytes survive as a conflict copy next to the path.
      const copy = Object.entries(ws).find(([p]) => p.startsWith(`shared/${i} (conflict`));
      expect(copy?.[1]).toBe(`from b ${i}`);
    }
  }, 240_000);
});
