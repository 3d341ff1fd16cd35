// Conditional listings with two hub instances sharing one data dir and one Redis: the cursor (and
// so the "nothing after it" check) is the shared feed's, the "walked" mark each instance's own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, type HubHandle } from '../helpers/hub.ts';
import { startHubPair, type HubPair } from '../helpers/hub-pair.ts';
import { skipWithoutRedis } from '../helpers/redis.ts';

describe.skipIf(skipWithoutRedis())('conditional listing across two hub instances', () => {
  let h1: HubHandle;
  let h2: HubHandle;
  let key: string;
  const files = (h: HubHandle, tag?: string): Promise<Response> =>
    fetch(`${h.url}/users/alice/workspace/files`, { headers: { ...auth(key), ...(tag ? { 'if-none-match': tag } : {}) } });
  /**
   * The conditional listing's status once the instance's agent watcher has settled the events of
   * the latest write (304 is withheld while it has them in hand); the last status after 10 s.
   */
  const eventually304 = async (h: HubHandle, cursor: string): Promise<number> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const status = (await files(h, `"${cursor}"`)).status;
      if (status === 304 || Date.now() > deadline) return status;
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  let pair: HubPair | undefined;
  beforeAll(async () => {
    pair = await startHubPair();
    ({ h1, h2 } = pair);
    key = await h1.createKey('alice');
  }, 60_000);
  afterAll(async () => {
    await pair?.stop();
  });

  it('304 only from an instance that walked, and a write through the other instance ends it', { timeout: 60_000 }, async () => {
    const put = await fetch(`${h1.url}/users/alice/workspace/files/a.txt`, { method: 'PUT', headers: { ...auth(key), 'if-none-match': '*' }, body: 'a' });
    expect(put.status).toBe(200);
    const first = await files(h1);
    expect(first.status).toBe(200);
    const { cursor } = (await first.json()) as { cursor: string };
    expect(first.headers.get('etag')).toBe(`"${cursor}"`);
    expect(await eventually304(h1, cursor)).toBe(304);
    // Instance 2 shares the cursor but has not walked alice's workspace yet: it lists in full.
    const other = await files(h2, `"${cursor}"`);
    expect(other.status).toBe(200);
    expect(((await other.json()) as { cursor: string }).cursor).toBe(cursor);
    expect(await eventually304(h2, cursor)).toBe(304);
    // A write through instance 2 moves the shared feed: neither instance answers 304 for the old cursor.
    const w = await fetch(`${h2.url}/users/alice/workspace/files/b.txt`, { method: 'PUT', headers: { ...auth(key), 'if-none-match': '*' }, body: 'b' });
    expect(w.status).toBe(200);
    expect((await files(h1, `"${cursor}"`)).status).toBe(200);
    expect((await files(h2, `"${cursor}"`)).status).toBe(200);
  });
});
