// Issue 14, part 2: every change says who made it (`origin`), Ralph can ask the feed for what the
// user changed (`origin=`), and an optional webhook receives signed JSON batches of changes,
// retried after a failure, without ever holding up sync. Real hub process, real CLI clients, a
// local receiver on loopback.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClient, makeRoot, type TestClient } from '../helpers/client.ts';
import { auth, startHub, type HubHandle } from '../helpers/hub.ts';

const SECRET = 'test-webhook-secret';

interface Delivery {
  id: string;
  timestamp: string;
  signatureOk: boolean;
  body: { id: string; sent_at: string; changes: { user_id: string; path: string; hash: string | null; source?: string; origin?: string }[] };
}

/** A webhook receiver: checks each signature as Ralph would; `mode` decides the answer. */
class Receiver {
  mode: 'ok' | 'fail-once' | 'hang' = 'ok';
  readonly deliveries: Delivery[] = [];
  readonly hung: ServerResponse[] = [];
  /** Deliveries answered 2xx: what Ralph accepted. */
  readonly accepted: Delivery[] = [];
  private failed = new Set<string>();
  server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/ralph/hook`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const timestamp = String(req.headers['x-youlab-timestamp'] ?? '');
    const expected = `sha256=${createHmac('sha256', SECRET).update(`${timestamp}.${raw}`).digest('hex')}`;
    const got = String(req.headers['x-youlab-signature'] ?? '');
    const signatureOk = got.length === expected.length && timingSafeEqual(Buffer.from(got), Buffer.from(expected));
    const d: Delivery = { id: String(req.headers['x-youlab-delivery']), timestamp, signatureOk, body: JSON.parse(raw) as Delivery['body'] };
    this.deliveries.push(d);
    if (this.mode === 'hang') {
      this.hung.push(res);
      return;
    }
    if (this.mode === 'fail-once' && !this.failed.has(d.id)) {
      this.failed.add(d.id);
      res.writeHead(500).end('receiver broke');
      return;
    }
    this.accepted.push(d);
    res.writeHead(204).end();
  }

  changes(): Delivery['body']['changes'] {
    return this.deliveries.flatMap((d) => d.body.changes);
  }

  async stop(): Promise<void> {
    for (const r of this.hung) r.destroy();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

let hub: HubHandle;
let receiver: Receiver;
let root: { dir: string; cleanup(): Promise<void> };
let userKey: string;
let serviceKey: string;
let laptop: TestClient;
let desktop: TestClient;

beforeAll(async () => {
  receiver = new Receiver();
  await receiver.start();
  hub = await startHub({
    env: { RALPH_WEBHOOK_URL: receiver.url, RALPH_WEBHOOK_SECRET: SECRET, RALPH_WEBHOOK_TIMEOUT_MS: '1000', RALPH_WEBHOOK_RETRY_MAX_MS: '2000', RALPH_METRICS: 'true' },
  });
  userKey = await hub.createKey('bob', { label: 'bob key' });
  serviceKey = await hub.createKey(null, { service: true, label: 'ralph' });
  root = await makeRoot('youlab-origin-');
  laptop = await makeClient(root.dir, 'laptop', hub.url, userKey);
  desktop = await makeClient(root.dir, 'desktop', hub.url, userKey);
}, 60_000);

afterAll(async () => {
  await hub?.stop();
  await receiver?.stop();
  await root?.cleanup();
});

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

interface FeedAnswer {
  cursor: string;
  changes: { path: string; hash: string | null; source?: string; origin?: string }[];
}

async function feed(query: string): Promise<{ status: number; body: FeedAnswer }> {
  const r = await fetch(`${hub.url}/users/bob/workspace/changes?${query}`, { headers: auth(serviceKey) });
  return { status: r.status, body: (await r.json()) as FeedAnswer };
}

async function cursorNow(): Promise<string> {
  return (await feed('since=none')).body.cursor;
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${hub.url}/metrics`, { headers: auth(serviceKey) })).text();
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('origins in the feed', { timeout: 120_000 }, () => {
  it('each change says who made it; origin= asks for some and leaves others out', async () => {
    const since = await cursorNow();
    await laptop.write('shared.md', 'from the laptop\n');
    await laptop.sync();
    // Ralph through the hub, with its service key (label "ralph").
    const put = await fetch(`${hub.url}/users/bob/workspace/files/ralph.md`, { method: 'PUT', body: 'from ralph\n', headers: { ...auth(serviceKey), 'if-none-match': '*' } });
    expect(put.status).toBe(200);
    // A client that claims to be the agent is recorded as a device, never as the agent.
    const fake = await fetch(`${hub.url}/users/bob/workspace/files/fake.md`, { method: 'PUT', body: 'not the agent\n', headers: { ...auth(userKey), 'if-none-match': '*', 'x-youlab-device': 'agent' } });
    expect(fake.status).toBe(200);
    // The agent then changes the laptop's file straight in the folder.
    await writeFile(join(hub.dataDir, 'bob', 'workspace', 'shared.md'), 'the agent changed it\n');
    await until('the agent change in the feed', async () => ((await feed(`since=${since}&origin=agent`)).body.changes.length === 1 ? true : undefined));

    const all = (await feed(`since=${since}`)).body.changes;
    expect(Object.fromEntries(all.map((c) => [c.path, c.origin]))).toEqual({ 'ralph.md': 'ralph', 'fake.md': 'device:agent', 'shared.md': 'agent' });
    // "What did the user change since this cursor": the laptop's write of shared.md is still
    // there, though the agent changed that path after it.
    const user = (await feed(`since=${since}&origin=!agent,!ralph`)).body.changes;
    expect(user.map((c) => [c.path, c.origin, c.source])).toEqual([
      ['shared.md', 'laptop', 'client'],
      ['fake.md', 'device:agent', 'client'],
    ]);
    const laptopOnly = (await feed(`since=${since}&origin=laptop`)).body;
    expect(laptopOnly.changes.map((c) => c.path)).toEqual(['shared.md']);
    // The cursor moves past what was left out, like an unfiltered read.
    expect(laptopOnly.cursor).toBe((await feed(`since=${since}`)).body.cursor);
  });

  it('a malformed origin filter or device header is refused with a clear 400, nothing written', async () => {
    for (const q of ['origin=', 'origin=a,,b', 'origin=!', 'origin=a&origin=b']) {
      const r = await feed(`since=none&${q}`);
      expect(r.status, q).toBe(400);
      expect((r.body as unknown as { error: string }).error).toBe('bad_request');
    }
    const bad = await fetch(`${hub.url}/users/bob/workspace/files/bad.md`, { method: 'PUT', body: 'x', headers: { ...auth(userKey), 'if-none-match': '*', 'x-youlab-device': '%zz' } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/X-Youlab-Device/);
    const gone = await fetch(`${hub.url}/users/bob/workspace/files/bad.md`, { headers: auth(userKey) });
    expect(gone.status).toBe(404);
  });

  it('a key without a device name is recorded by its label', async () => {
    const since = await cursorNow();
    const put = await fetch(`${hub.url}/users/bob/workspace/files/by-key.md`, { method: 'PUT', body: 'by key\n', headers: { ...auth(userKey), 'if-none-match': '*' } });
    expect(put.status).toBe(200);
    expect((await feed(`since=${since}`)).body.changes.map((c) => c.origin)).toEqual(['bob key']);
  });
});

describe('the Ralph webhook', { timeout: 120_000 }, () => {
  it('receives signed batches of changes with their origins', async () => {
    receiver.mode = 'ok';
    await laptop.write('hook/one.md', 'one\n');
    await laptop.write('hook/two.md', 'two\n');
    await laptop.sync();
    const seen = await until('both changes delivered', () => {
      const c = receiver.changes().filter((x) => x.path.startsWith('hook/'));
      return c.length >= 2 ? c : undefined;
    });
    expect(seen.map((c) => [c.user_id, c.path, c.origin]).sort()).toEqual([
      ['bob', 'hook/one.md', 'laptop'],
      ['bob', 'hook/two.md', 'laptop'],
    ]);
    expect(receiver.deliveries.every((d) => d.signatureOk && d.id === d.body.id)).toBe(true);
    // The timestamp is signed too: the receiver can refuse an old (replayed) delivery.
    const last = receiver.deliveries.at(-1)!;
    expect(Math.abs(Number(last.timestamp) - Date.now() / 1000)).toBeLessThan(300);
  });

  it('a delivery answered 500 is sent again (same id, signed anew) and counted in /metrics', async () => {
    receiver.mode = 'fail-once';
    const errorsBefore = await metric('youlab_webhook_deliveries_total{outcome="error"}');
    await laptop.write('hook/retry.md', 'retry me\n');
    await laptop.sync();
    const tries = await until('the delivery retried after the 500', () => {
      const d = receiver.deliveries.filter((x) => x.body.changes.some((c) => c.path === 'hook/retry.md'));
      return d.length >= 2 ? d : undefined;
    });
    expect(tries[0]!.id).toBe(tries[1]!.id);
    expect(tries.every((d) => d.signatureOk)).toBe(true);
    expect(await metric('youlab_webhook_deliveries_total{outcome="error"}')).toBeGreaterThan(errorsBefore);
    expect(hub.logs()).toMatch(/Ralph webhook delivery failed; retrying/);
  });

  it('a receiver that hangs holds up no sync: clients sync both ways meanwhile, and the batch arrives once it answers', async () => {
    receiver.mode = 'hang';
    await laptop.write('hook/hang.md', 'written while Ralph hangs\n');
    await laptop.sync();
    await until('a delivery is hanging', () => (receiver.hung.length > 0 ? true : undefined));
    // While the receiver holds its connection open (and every retry's): whole rounds on both clients complete.
    await desktop.sync();
    expect(await desktop.read('hook/hang.md')).toBe('written while Ralph hangs\n');
    await desktop.write('hook/back.md', 'and back\n');
    await desktop.sync();
    await laptop.sync();
    expect(await laptop.read('hook/back.md')).toBe('and back\n');
    const accepted = (): Set<string> => new Set(receiver.accepted.flatMap((d) => d.body.changes.map((c) => c.path)));
    // All of that happened while no delivery of these changes was accepted.
    expect(accepted().has('hook/hang.md')).toBe(false);
    // Ralph recovers: everything reaches it, through the retries (timeout, then backoff capped at 2 s
    // here, so the next attempt after the hang is never more than ~3 s away however long the hang lasted).
    receiver.mode = 'ok';
    await until(
      'the changes made during the hang delivered',
      () => (accepted().has('hook/hang.md') && accepted().has('hook/back.md') ? true : undefined),
      60_000,
    );
  });
});
