// The "Knowledge base" section of Recent activity in Chromium with the fake bridge: counts and the
// last round, failed files with Open WebUI's reason and what to do, held deletes with "Confirm the
// deletes", "Open in Open WebUI" when that address is set, a hub without Open WebUI, an older
// hub's answer; light and dark.
import type { KbView } from '../../app/ipc/contract.ts';
import type { KbStatus } from '../../shared/kb-status.ts';
import { defaultScenario, expect, fake, shot, test } from './harness.ts';

const at = (m: number): string => `2026-11-27T12:${String(m).padStart(2, '0')}:00.000Z`;

function kbStatus(over: Partial<KbStatus> = {}): KbStatus {
  return {
    user_id: 'ada',
    openwebui: { configured: true, url: 'https://openwebui.example.org', reachable: true, version: '0.12.4' },
    knowledge_id: 'kb-7',
    knowledge_name: 'workspace-ada',
    last_sync: at(3),
    running: false,
    guard: 'this round would delete 12 of 214 files on the hub (over 50%)',
    last_round: { direction: 'bidirectional', started_at: at(2), finished_at: at(3), duration_ms: 1240, outcome: 'guarded', changed: true },
    counts: { total: 244, synced: 214, pending: 3, processing: 2, failed: 2, ignored: 11, held: 12 },
    total: 14,
    offset: 0,
    limit: 200,
    next_offset: null,
    files: [
      {
        path: 'slides/week1.pptx',
        state: 'failed',
        hash: 'sha256:' + 'a'.repeat(64),
        reason: 'unsupported_type',
        message: 'File type pptx is not allowed',
        side: 'to_openwebui',
        attempts: 3,
        failed_at: at(3),
        next_retry_at: '2026-11-27T13:03:00.000Z',
      },
      {
        path: 'scans/empty.md',
        state: 'failed',
        hash: 'sha256:' + 'b'.repeat(64),
        reason: 'processing_failed',
        message: 'The content provided is empty. Please ensure that there is text or data present before proceeding.',
        side: 'to_openwebui',
        attempts: 1,
        failed_at: at(3),
        next_retry_at: '2026-11-27T12:04:00.000Z',
      },
      ...Array.from({ length: 12 }, (_, i) => ({
        path: `old/lesson-${String(i + 1).padStart(2, '0')}.md`,
        state: 'held' as const,
        hash: 'sha256:' + 'c'.repeat(64),
        action: 'delete_in_openwebui' as const,
        message: 'this round would delete 12 of 214 files on the hub (over 50%)',
        held_since: at(3),
      })),
    ],
    ...over,
  };
}

const view = (status: KbStatus, openWebuiUrl?: string): KbView => ({ available: true, status, fetchedAt: at(4), ...(openWebuiUrl ? { openWebuiUrl } : {}) });

test('counts, failed files with Open WebUI’s reason and what to do, held deletes confirmed, Open in Open WebUI', async ({ openPage }) => {
  const scenario = defaultScenario();
  scenario.kb = view(kbStatus(), 'https://openwebui.example.org');
  const after = kbStatus({ guard: null, counts: { total: 232, synced: 214, pending: 3, processing: 2, failed: 2, ignored: 11, held: 0 } });
  after.files = after.files.filter((f) => f.state !== 'held');
  after.last_round = { ...after.last_round!, outcome: 'ok' };
  scenario.kbAfterConfirm = view(after, 'https://openwebui.example.org');
  scenario.kbConfirmResult = { ok: true, message: '12 files deleted' };
  const page = await openPage('activity', scenario);

  const kb = page.locator('#kb-section');
  await expect(kb.getByRole('heading', { name: 'Knowledge base', exact: true })).toBeVisible();
  await expect(page.locator('#kb-summary')).toHaveText('214 files in the knowledge base · 3 waiting · 2 processing · 2 failed · 12 deletes held · 11 left out by the rules');
  await expect(page.locator('#kb-round')).toContainText('took 1.2 s: deletes held back');
  const failed = page.locator('#kb-failed li');
  await expect(failed).toHaveCount(2);
  await expect(failed.nth(0)).toContainText('slides/week1.pptx — File type pptx is not allowed');
  await expect(failed.nth(0)).toContainText('failed 3 times, next try');
  await expect(failed.nth(0)).toContainText('What to do: Open WebUI does not take this type of file');
  await expect(failed.nth(1)).toContainText('scans/empty.md — The content provided is empty.');
  await expect(failed.nth(1)).toContainText('What to do: Open WebUI could not read text from this file');
  await expect(page.locator('#kb-held li')).toHaveCount(12);
  await expect(page.locator('#kb-held li').first()).toContainText('old/lesson-01.md — Deleted in the workspace; still in the knowledge base');
  await expect(page.locator('#kb-guard')).toContainText('The hub stopped before deleting 12 files: this round would delete 12 of 214 files on the hub (over 50%).');
  await shot(page, 'activity-kb');

  await kb.getByRole('button', { name: 'Open in Open WebUI' }).click();
  await kb.getByRole('button', { name: 'Confirm the deletes' }).click();
  await expect(page.locator('#kb-confirm-result')).toHaveText('Done: 12 files deleted');
  await expect(page.locator('#kb-held li')).toHaveCount(0);
  await expect(page.locator('#kb-guard')).toHaveCount(0);
  await expect(page.locator('#kb-summary')).toHaveText('214 files in the knowledge base · 3 waiting · 2 processing · 2 failed · 11 left out by the rules');
  const calls = (await fake(page)).calls.map((c) => c.channel).filter((c) => c.startsWith('kb:'));
  expect(calls).toEqual(['kb:status', 'kb:open-webui', 'kb:confirm-deletes', 'kb:status']);
  await shot(page, 'activity-kb-confirmed');
});

test('a refused confirmation says why and keeps the button', async ({ openPage }) => {
  const scenario = defaultScenario();
  scenario.kb = view(kbStatus());
  scenario.kbConfirmResult = { ok: false, message: 'the hub still holds deletes: this round would delete 30 of 214 files on the hub (over 50%)' };
  const page = await openPage('activity', scenario);
  // No Open WebUI address in the settings: no button to go there.
  await expect(page.locator('#kb-section').getByRole('button', { name: 'Open in Open WebUI' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Confirm the deletes' }).click();
  await expect(page.locator('#kb-confirm-result')).toHaveText('Not applied: the hub still holds deletes: this round would delete 30 of 214 files on the hub (over 50%)');
  await expect(page.getByRole('button', { name: 'Confirm the deletes' })).toBeEnabled();
});

test('a hub without Open WebUI says so', async ({ openPage, page }) => {
  const off = defaultScenario();
  off.kb = { available: false, message: 'The hub does not sync a knowledge base: RALPH_OPENWEBUI_URL is not set.', openWebuiUrl: 'https://openwebui.example.org' };
  await openPage('activity', off);
  await expect(page.locator('#kb-summary')).toHaveText('The hub does not sync a knowledge base: RALPH_OPENWEBUI_URL is not set.');
  await expect(page.locator('#kb-section').getByRole('button', { name: 'Open in Open WebUI' })).toBeVisible();
  await shot(page, 'activity-kb-off');
});

test('an older hub’s answer: no counts, no last round, `skipped` for a type it does not send', async ({ openPage, page }) => {
  const old = defaultScenario();
  old.kb = view({
    user_id: 'ada',
    openwebui: { configured: true, reachable: true, version: '0.12.4' },
    knowledge_id: 'kb-7',
    last_sync: at(3),
    files: [
      { path: 'a.md', state: 'synced' },
      { path: 'b.bin', state: 'skipped', reason: 'unsupported_type' },
      { path: 'c.pdf', state: 'failed', reason: 'processing_failed', message: 'no text' },
    ],
  });
  await openPage('activity', old);
  await expect(page.locator('#kb-summary')).toHaveText('1 file in the knowledge base · 1 failed · 1 left out by the rules');
  await expect(page.locator('#kb-round')).toHaveText(/^Last synced /);
  await expect(page.locator('#kb-failed li')).toHaveCount(1);
});

test('dark mode', async ({ openPage, page }) => {
  await page.emulateMedia({ colorScheme: 'dark' });
  const scenario = defaultScenario();
  scenario.kb = view(kbStatus(), 'https://openwebui.example.org');
  await openPage('activity', scenario);
  await expect(page.locator('#kb-held li')).toHaveCount(12);
  await shot(page, 'activity-kb-dark');
});
