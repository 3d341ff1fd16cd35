// Two hub instances' KB syncs (two KbSync objects over one workspace, one emulator and one
// Redis) never run one user's round at once: the second waits for the first and then finds
// nothing to do, so every file is uploaded exactly once. Rounds are timed for /metrics.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCoordination, type Coordination } from '../../server/coordination/index.ts';
import { silentLogger } from '../../server/log.ts';
import { OpenWebUIClient } from '../../server/openwebui/client.ts';
import { KbSync } from '../../server/openwebui/kb-sync.ts';
import { DEFAULT_EXTENSIONS } from '../../server/openwebui/plan.ts';
import { startEmulator, type OpenWebUIEmulator } from '../fakes/openwebui-emulator/index.ts';
import { folderStore, putFile, tempRoot } from '../helpers/openwebui.ts';
import { skipWithoutRedis, startRedis, type RedisHandle } from '../helpers/redis.ts';

describe.skipIf(skipWithoutRedis())('KB sync lock across hub instances', () => {
  let redis: RedisHandle;
  let emu: OpenWebUIEmulator;
  const coords: Coordination[] = [];
  let root = '';

  beforeAll(async () => {
    redis = await startRedis();
    emu = await startEmulator();
    root = await tempRoot();
    const cfg = { redisUrl: redis.url, redisPrefix: `kb${randomBytes(3).toString('hex')}:`, lockTtlMs: 2000 };
    coords.push(createCoordination(cfg, silentLogger()), createCoordination(cfg, silentLogger()));
    await Promise.all(coords.map((c) => c.ready));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(coords.map((c) => c.close()));
    await emu?.stop();
    await redis?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('runs one round per user at a time and uploads each file once', async () => {
    const user = emu.addUser('Student', `s-${randomBytes(3).toString('hex')}@example.test`);
    const store = folderStore(root);
    for (let i = 0; i < 5; i++) await putFile(store, user.id, `notes/n${i}.md`, `note ${i}\n`);
    const rounds: boolean[] = [];
    const instance = (c: Coordination) =>
      new KbSync({
        client: new OpenWebUIClient({ url: emu.url, apiKey: emu.adminApiKey }),
        store,
        extensions: DEFAULT_EXTENSIONS,
        processTimeoutMs: 5_000,
        lock: c.kbLocks,
        onRoundStart: () => (ok) => rounds.push(ok),
      });
    const [a, b] = [instance(coords[0]!), instance(coords[1]!)];
    const [sa, sb] = await Promise.all([a.sync(user.id), b.sync(user.id)]);
    const uploaded = [...sa.uploaded, ...sb.uploaded].sort();
    expect(uploaded).toEqual([0, 1, 2, 3, 4].map((i) => `notes/n${i}.md`));
    // Whichever ran second found the KB already complete.
    expect(Math.min(sa.uploaded.length, sb.uploaded.length)).toBe(0);
    expect(emu.uploads()).toHaveLength(5);
    expect(rounds).toEqual([true, true]);
  });
});
