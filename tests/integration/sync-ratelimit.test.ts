// docs/SYNC-SPEC.md: 429 honoured with Retry-After. The hub allows a handful of transfers per minute;
// the client must wait as told and then finish (retrying early would only earn more 429s).
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type HubHandle } from '../helpers/hub.ts';
import { makeClient, makeRoot } from '../helpers/client.ts';

let hub: HubHandle;
let root: { dir: string; cleanup(): Promise<void> };

beforeAll(async () => {
  hub = await startHub({ env: { RALPH_RATE_LIMIT_TRANSFER_PER_MIN: '5' } });
  root = await makeRoot();
});
afterAll(async () => {
  await hub?.stop();
  await root?.cleanup();
});

describe('rate limits', () => {
  it('429 honoured with Retry-After: the client waits as asked and converges', { timeout: 180_000 }, async () => {
    const key = await hub.createKey('busy');
    const a = await makeClient(join(root.dir, 'busy'), 'alpha', hub.url, key);
    // Over the client's bulk size (256 KiB), so each file is its own request (small files would
    // travel together in one bulk request and never meet the limit).
    for (let i = 0; i < 7; i++) await a.write(`f${i}.txt`, `file ${i}\n`.repeat(40_000));
    const r = await a.once({ timeoutMs: 170_000 });
    expect(r.stderr).toMatch(/rate limited by the hub; waiting \d+ s as asked/);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('uploaded 7, downloaded 0, deleted 0, conflicts 0');
    expect((await readdir(join(hub.dataDir, 'busy', 'workspace'))).sort()).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `f${i}.txt`));
  });
});
