// Limits against the real hub with tiny values from env: 413 file, 507 quota, 429 honoured.
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, rawRequest, startHub, type HubHandle } from '../helpers/hub.ts';

describe('size limits', () => {
  let hub: HubHandle;
  let key: string;
  beforeAll(async () => {
    hub = await startHub({ env: { RALPH_MAX_FILE_BYTES: '1000', RALPH_MAX_WORKSPACE_BYTES: '2500' } });
    key = await hub.createKey('alice');
  });
  afterAll(async () => {
    await hub?.stop();
  });
  const put = (path: string, body: string, headers: Record<string, string>): Promise<Response> =>
    fetch(`${hub.url}/users/alice/workspace/files/${path}`, { method: 'PUT', headers: { ...auth(key), ...headers }, body });

  it('413 file: over the per-file limit by Content-Length, nothing written', async () => {
    const r = await put('big.bin', 'x'.repeat(1001), { 'if-none-match': '*' });
    expect(r.status).toBe(413);
    expect(await r.json()).toMatchObject({ error: 'too_large' });
    expect(existsSync(join(hub.dataDir, 'alice', 'workspace', 'big.bin'))).toBe(false);
    expect((await put('ok.bin', 'x'.repeat(1000), { 'if-none-match': '*' })).status).toBe(200);
  });

  it('413 file: over the limit while streaming (no Content-Length), nothing left behind', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 3; i++) c.enqueue(new TextEncoder().encode('y'.repeat(600)));
        c.close();
      },
    });
    const r = await fetch(`${hub.url}/users/alice/workspace/files/streamed.bin`, {
      method: 'PUT',
      headers: { ...auth(key), 'if-none-match': '*' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(r.status).toBe(413);
    expect(existsSync(join(hub.dataDir, 'alice', 'workspace', 'streamed.bin'))).toBe(false);
    expect(await readdir(join(hub.dataDir, 'alice', '.hub', 'tmp'))).toEqual([]);
  });

  it('507 quota: counts the replaced file correctly', async () => {
    // ok.bin holds 1000 bytes; quota 2500.
    expect((await put('two.bin', 'z'.repeat(1000), { 'if-none-match': '*' })).status).toBe(200);
    const over = await put('three.bin', 'w'.repeat(600), { 'if-none-match': '*' });
    expect(over.status).toBe(507);
    expect(await over.json()).toMatchObject({ error: 'quota_exceeded' });
    expect(existsSync(join(hub.dataDir, 'alice', 'workspace', 'three.bin'))).toBe(false);
    // Replacing a 1000-byte file with 1000 bytes: 2000 used either way, allowed.
    const list = (await (await fetch(`${hub.url}/users/alice/workspace/files`, { headers: auth(key) })).json()) as {
      files: { path: string; hash: string }[];
    };
    const two = list.files.find((f) => f.path === 'two.bin')!;
    const replace = await put('two.bin', 'q'.repeat(1000), { 'if-match': `"${two.hash}"` });
    expect(replace.status).toBe(200);
    // 2000 used; 500 more fits exactly.
    expect((await put('three.bin', 'w'.repeat(500), { 'if-none-match': '*' })).status).toBe(200);
    expect((await put('four.bin', 'v', { 'if-none-match': '*' })).status).toBe(507);
  });
});

describe('429 honoured', () => {
  let hub: HubHandle;
  let alice: string;
  let bob: string;
  beforeAll(async () => {
    hub = await startHub({ env: { RALPH_RATE_LIMIT_TRANSFER_PER_MIN: '3' } });
    alice = await hub.createKey('alice');
    bob = await hub.createKey('bob');
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('answers 429 with Retry-After and RateLimit headers once the per-user transfer budget is spent', async () => {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      last = await fetch(`${hub.url}/users/alice/workspace/files`, { headers: auth(alice) });
      statuses.push(last.status);
      if (i < 3) await last.arrayBuffer();
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(last!.headers.get('ratelimit')).toMatch(/r=0/);
    expect(last!.headers.get('ratelimit-policy')).toMatch(/q=3/);
    expect(await last!.json()).toMatchObject({ error: 'rate_limited' });
    // Budgets are per user: bob is unaffected.
    const b = await rawRequest(hub.url, { path: '/users/bob/workspace/files', headers: auth(bob) });
    expect(b.status).toBe(200);
    expect(b.headers['ratelimit']).toMatch(/r=2/);
  });
});

describe('version retention', () => {
  let hub: HubHandle;
  let key: string;
  beforeAll(async () => {
    hub = await startHub({ env: { RALPH_VERSION_RETENTION_DAYS: '0' } });
    key = await hub.createKey('alice');
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('prunes versions older than RALPH_VERSION_RETENTION_DAYS (here 0: at the next start)', async () => {
    const h = { ...auth(key) };
    const first = await fetch(`${hub.url}/users/alice/workspace/files/r.txt`, { method: 'PUT', headers: { ...h, 'if-none-match': '*' }, body: 'one' });
    const { hash } = (await first.json()) as { hash: string };
    await fetch(`${hub.url}/users/alice/workspace/files/r.txt`, { method: 'PUT', headers: { ...h, 'if-match': `"${hash}"` }, body: 'two' });
    const before = (await (await fetch(`${hub.url}/users/alice/workspace/versions/r.txt`, { headers: h })).json()) as { versions: unknown[] };
    expect(before.versions).toHaveLength(1);
    await hub.restart();
    const deadline = Date.now() + 10_000;
    let after: { versions: unknown[] } = before;
    while (Date.now() < deadline && after.versions.length > 0) {
      after = (await (await fetch(`${hub.url}/users/alice/workspace/versions/r.txt`, { headers: h })).json()) as { versions: unknown[] };
      if (after.versions.length) await new Promise((r) => setTimeout(r, 100));
    }
    expect(after.versions).toEqual([]);
  });
});
