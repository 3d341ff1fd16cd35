// GET /metrics on the real hub process (RALPH_METRICS=true): guarded by the service key, and
// its numbers move as requests are made. Also: request ids and logs that never hold a key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubMetrics } from '../../server/metrics/registry.ts';
import { auth, startHub, type HubHandle } from '../helpers/hub.ts';

let hub: HubHandle;
let userKey: string;
let serviceKey: string;
let spamKey: string;

const FILES = '/users/:user_id/workspace/files/*path';

async function scrape(): Promise<string> {
  const r = await fetch(`${hub.url}/metrics`, { headers: auth(serviceKey) });
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
  return r.text();
}
/** The value of one sample, 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return 0;
}

beforeAll(async () => {
  hub = await startHub({ env: { RALPH_METRICS: 'true', LOG_LEVEL: 'debug', RALPH_RATE_LIMIT_TRANSFER_PER_MIN: '30' } });
  [userKey, serviceKey, spamKey] = await Promise.all([hub.createKey('alice'), hub.createKey(null, { service: true }), hub.createKey('spammer')]);
}, 60_000);
afterAll(async () => {
  await hub?.stop();
});

describe('GET /metrics', () => {
  it('needs a service key: 401 without a key, 403 with a user key', async () => {
    expect((await fetch(`${hub.url}/metrics`)).status).toBe(401);
    const r = await fetch(`${hub.url}/metrics`, { headers: auth(userKey) });
    expect(r.status).toBe(403);
    expect(((await r.json()) as { error: string }).error).toBe('forbidden');
  });

  it('counts requests by route and status, bytes, files synced, conflicts, rounds and 429s', async () => {
    const before = await scrape();
    const body = 'x'.repeat(5000);
    const put = (headers: Record<string, string>) =>
      fetch(`${hub.url}/users/alice/workspace/files/m/a.txt`, { method: 'PUT', headers: { ...auth(userKey), ...headers }, body });
    expect((await put({ 'if-none-match': '*' })).status).toBe(200);
    expect((await put({ 'if-none-match': '*' })).status).toBe(412);
    expect((await fetch(`${hub.url}/users/alice/workspace/files`, { headers: auth(userKey) })).status).toBe(200);
    const g = await fetch(`${hub.url}/users/alice/workspace/files/m/a.txt`, { headers: auth(userKey) });
    expect((await g.text()).length).toBe(5000);
    let limited = 0;
    for (let i = 0; i < 32; i++) {
      const r = await fetch(`${hub.url}/users/spammer/workspace/files`, { headers: auth(spamKey) });
      await r.arrayBuffer();
      if (r.status === 429) limited++;
    }
    expect(limited).toBeGreaterThan(0);

    const after = await scrape();
    const d = (name: string, labels: Record<string, string> = {}): number => sample(after, name, labels) - sample(before, name, labels);
    expect(d('youlab_http_requests_total', { method: 'PUT', route: FILES, status: '200' })).toBe(1);
    expect(d('youlab_http_requests_total', { method: 'PUT', route: FILES, status: '412' })).toBe(1);
    expect(d('youlab_conflicts_total', { route: FILES })).toBe(1);
    expect(d('youlab_files_synced_total', { source: 'client', op: 'upsert' })).toBe(1);
    expect(d('youlab_sync_rounds_total', { kind: 'list' })).toBeGreaterThanOrEqual(1);
    expect(d('youlab_http_request_bytes_total', { route: FILES })).toBeGreaterThanOrEqual(10_000);
    expect(d('youlab_http_response_bytes_total', { route: FILES })).toBeGreaterThanOrEqual(5000);
    expect(d('youlab_rate_limit_rejections_total', { budget: 'transfer' })).toBe(limited);
    // Label values are templates, never user ids or file names.
    expect(after).not.toMatch(/alice|spammer|a\.txt/);
    // The KB metrics exist for the Open WebUI sync to feed.
    expect(after).toMatch(/^youlab_kb_sync_duration_seconds_count 0$/m);
    expect(after).toMatch(/^youlab_kb_sync_failures_total 0$/m);
  });

  it('shows pending long polls as change-feed subscribers', async () => {
    const { cursor } = (await (await fetch(`${hub.url}/users/alice/workspace/files`, { headers: auth(userKey) })).json()) as { cursor: string };
    const ac = new AbortController();
    const poll = fetch(`${hub.url}/users/alice/workspace/changes?since=${cursor}&wait=30`, { headers: auth(userKey), signal: ac.signal }).catch(() => undefined);
    let seen = 0;
    for (let i = 0; i < 50 && seen !== 1; i++) {
      seen = sample(await scrape(), 'youlab_change_feed_subscribers');
      if (seen !== 1) await new Promise((r) => setTimeout(r, 100));
    }
    expect(seen).toBe(1);
    ac.abort();
    await poll;
    for (let i = 0; i < 50 && seen !== 0; i++) {
      seen = sample(await scrape(), 'youlab_change_feed_subscribers');
      if (seen !== 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(seen).toBe(0);
  });
});

describe('request ids and logs', () => {
  it('echoes a sane X-Request-Id, makes one otherwise, and logs it', async () => {
    const r = await fetch(`${hub.url}/me`, { headers: { ...auth(userKey), 'x-request-id': 'trace-abc.123' } });
    expect(r.headers.get('x-request-id')).toBe('trace-abc.123');
    const made = await fetch(`${hub.url}/me`, { headers: { ...auth(userKey), 'x-request-id': 'bad id\twith spaces' } });
    const id = made.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await new Promise((res) => setTimeout(res, 300));
    const lines = hub
      .logs()
      .split('\n')
      .flatMap((l) => {
        // The last line may still be arriving.
        try {
          return [JSON.parse(l) as { reqId?: string; msg?: string }];
        } catch {
          return [];
        }
      });
    expect(lines.some((l) => l.reqId === 'trace-abc.123' && l.msg === 'request')).toBe(true);
    expect(lines.some((l) => l.reqId === id)).toBe(true);
  });

  it('never writes a key or an Authorization header to the logs', async () => {
    const bogus = 'ylk_alice_' + 'z'.repeat(40);
    await fetch(`${hub.url}/me`, { headers: auth(bogus) });
    await fetch(`${hub.url}/users/alice/workspace/files?key=${userKey}`, { headers: auth(userKey) });
    await fetch(`${hub.url}/users/alice/workspace/files/nope.txt`, { method: 'PUT', headers: auth(userKey), body: 'x' });
    await new Promise((res) => setTimeout(res, 300));
    const logs = hub.logs();
    expect(logs.length).toBeGreaterThan(0);
    for (const k of [userKey, serviceKey, spamKey, bogus]) {
      expect(logs).not.toContain(k);
      expect(logs).not.toContain(k.slice(-20));
    }
    expect(logs.toLowerCase()).not.toContain('authorization');
    expect(logs).not.toContain('Bearer');
  });
});

describe('HubMetrics for other modules', () => {
  it('times KB sync rounds and counts their failures', async () => {
    const m = new HubMetrics({}, { defaultMetrics: false });
    m.startKbSync()(true);
    m.startKbSync()(false);
    const text = await m.registry.metrics();
    expect(sample(text, 'youlab_kb_sync_duration_seconds_count')).toBe(2);
    expect(sample(text, 'youlab_kb_sync_failures_total')).toBe(1);
    expect(sample(text, 'youlab_sync_rounds_total', { kind: 'kb' })).toBe(2);
  });
});
