// End to end, issue 13's "done when": a REAL Open WebUI (the emulator where none is installed,
// unless YOULAB_REAL_OPENWEBUI=required) and a real hub; a file Open WebUI cannot process is
// `failed` with Open WebUI's reason in the hub's status answer, as the desktop app's main process
// fetches it (KbMonitor over HubClient), in the KB's description, and in the Recent activity
// page's rendering of that very answer.
import { test as base } from '@playwright/test';
import { KB_LIST_LIMIT, KbMonitor } from '../../app/main/kb-monitor.ts';
import { HubClient } from '../../app/sync/hub-client.ts';
import { DESCRIPTION_MARK } from '../../server/openwebui/kb-description.ts';
import { auth, type HubHandle } from '../helpers/hub.ts';
import {
  kbOf,
  realOpenWebUIInstalled,
  realOpenWebUIRequired,
  startEmulatorTarget,
  startHubWithOpenWebUI,
  startRealOpenWebUI,
  type OpenWebUITarget,
} from '../helpers/openwebui.ts';
import { defaultScenario, expect, shot, test } from './harness.ts';

let target: OpenWebUITarget | undefined;
let hub: HubHandle | undefined;

base.beforeAll(async () => {
  base.setTimeout(300_000);
  const real = realOpenWebUIInstalled() || realOpenWebUIRequired();
  target = real ? await startRealOpenWebUI() : await startEmulatorTarget();
  console.log(`[kb-real] ${target.kind} Open WebUI ${target.version}`);
  hub = await startHubWithOpenWebUI(target, { RALPH_SYNC_DEBOUNCE_MS: '600000', RALPH_SYNC_DEBOUNCE_MAX_MS: '600000', RALPH_SYNC_WAIT_MS: '120000' });
});

base.afterAll(async () => {
  base.setTimeout(60_000);
  await hub?.stop();
  await target?.stop();
});

test('a file Open WebUI cannot process shows as failed, with Open WebUI’s reason, in the desktop page', async ({ openPage }) => {
  test.setTimeout(120_000);
  const t = target!;
  const h = hub!;
  const user = await t.createUser('Desk');
  const key = await h.createKey(user.id);
  const ws = `${h.url}/users/${user.id}/workspace`;
  for (const [path, body] of [
    ['notes/cells.md', 'Cells divide by mitosis.\n'],
    ['empty.md', ''],
  ] as const) {
    const r = await fetch(`${ws}/files/${path}`, { method: 'PUT', headers: { ...auth(key), 'if-none-match': '*' }, body });
    expect(r.status).toBe(200);
  }
  const round = await fetch(`${ws}/sync`, { method: 'POST', headers: { ...auth(key), 'content-type': 'application/json' }, body: '{"direction":"to_openwebui"}' });
  expect(round.status).toBe(200);

  // What the app's main process does for kb:status (app/main/index.ts kbMonitorFor).
  const hubClient = new HubClient({ baseUrl: h.url, apiKey: key });
  const failedCounts: number[] = [];
  const monitor = new KbMonitor({
    source: { status: () => hubClient.kbStatus({ states: ['failed', 'held'], limit: KB_LIST_LIMIT }), confirmDeletes: () => hubClient.confirmKbDeletes() },
    openWebuiUrl: t.url,
    onFailedCount: (n) => failedCounts.push(n),
  });
  const view = await monitor.view();
  expect(view.available).toBe(true);
  if (!view.available) return;
  expect(failedCounts).toEqual([1]);
  const failed = view.status.files.find((f) => f.path === 'empty.md');
  expect(failed).toMatchObject({ state: 'failed', reason: 'processing_failed', attempts: 1 });
  expect(failed!.message).toMatch(/^The content provided is empty/);
  expect(view.status.counts).toMatchObject({ synced: 1, failed: 1 });

  // Written after the round's answer (Open WebUI re-embeds the description): wait for it.
  await expect
    .poll(async () => (await kbOf(t, user.id))!.description.split('\n').find((l) => l.startsWith(DESCRIPTION_MARK)), { timeout: 20_000 })
    .toContain('1 failed: empty.md (The content provided is empty');

  const scenario = defaultScenario();
  scenario.kb = view;
  const page = await openPage('activity', scenario);
  await expect(page.locator('#kb-summary')).toHaveText('1 file in the knowledge base · 1 failed');
  const item = page.locator('#kb-failed li');
  await expect(item).toHaveCount(1);
  await expect(item).toContainText(`empty.md — ${failed!.message!}`);
  await expect(item).toContainText('processing failed · failed 1 time');
  await expect(item).toContainText('What to do: Open WebUI could not read text from this file');
  await expect(page.locator('#kb-section').getByRole('button', { name: 'Open in Open WebUI' })).toBeVisible();
  expect(monitor.openWebuiTarget()).toBe(new URL(`/workspace/knowledge/${view.status.knowledge_id}`, t.url).href);
  await shot(page, `activity-kb-${t.kind}`);
});
