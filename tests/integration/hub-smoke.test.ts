// The hub process itself: start, restart on the same data, graceful shutdown with a pending long poll.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, startHub, type HubHandle } from '../helpers/hub.ts';

describe('hub process', () => {
  let hub: HubHandle;
  beforeAll(async () => {
    hub = await startHub();
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('hub killed mid-write: a crash and restart keep the data; the feed resets', async () => {
    expect((await fetch(`${hub.url}/healthz`)).status).toBe(200);
    const key = await hub.createKey('alice');
    expect(key).toMatch(/^ylk_/);
    expect(await (await fetch(`${hub.url}/me`, { headers: auth(key) })).json()).toEqual({ user_id: 'alice' });
    const put = await fetch(`${hub.url}/users/alice/workspace/files/x.txt`, {
      method: 'PUT',
      headers: { ...auth(key), 'if-none-match': '*' },
      body: 'x',
    });
    expect(put.status).toBe(200);
    // What an upload cut off by the crash leaves behind.
    const stale = join(hub.dataDir, 'alice', '.hub', 'tmp', '.upload.abcdef.youlab-tmp');
    await writeFile(stale, 'half');
    await hub.restart({ crash: true });
    const got = await fetch(`${hub.url}/users/alice/workspace/files/x.txt`, { headers: auth(key) });
    expect(await got.text()).toBe('x');
    expect(existsSync(stale)).toBe(false);
    const list = (await (await fetch(`${hub.url}/users/alice/workspace/files`, { headers: auth(key) })).json()) as { files: { path: string }[] };
    expect(list.files.map((f) => f.path)).toEqual(['x.txt']);
  });

  it('SIGTERM ends pending long polls and exits 0', async () => {
    const key = await hub.createKey('bob');
    const list = (await (await fetch(`${hub.url}/users/bob/workspace/files`, { headers: auth(key) })).json()) as { cursor: string };
    const t0 = Date.now();
    const poll = fetch(`${hub.url}/users/bob/workspace/changes?since=${list.cursor}&wait=60`, { headers: auth(key) }).then(
      async (r) => ({ status: r.status, body: (await r.json()) as { changes: unknown[] } }),
      () => ({ status: 0, body: { changes: [] } }),
    );
    await new Promise((r) => setTimeout(r, 300));
    const child = hub.process!;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    const result = await poll;
    expect(Date.now() - t0).toBeLessThan(30_000); // not held for the full 60 s wait
    expect([0, 200]).toContain(result.status);
    expect(result.body.changes).toEqual([]);
    expect(await exited).toBe(0);
    await hub.restart();
    expect((await fetch(`${hub.url}/healthz`)).status).toBe(200);
  });
});
