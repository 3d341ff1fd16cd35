// Recent activity in Chromium with the fake bridge: changes with direction and outcome, current
// problems with what to do, live updates, keyboard use, dark mode.
import { defaultScenario, emit, expect, fake, shot, test } from './harness.ts';

test('shows the last changes newest first with direction and outcome, and what needs attention', async ({ openPage }) => {
  const page = await openPage('activity');
  await expect(page.locator('#phase-text')).toContainText('Up to date');
  const rows = page.locator('#changes-body tr');
  await expect(rows).toHaveCount(5);
  await expect(rows.nth(0)).toContainText('data/huge.bin');
  await expect(rows.nth(0)).toContainText('↑ Uploaded');
  await expect(rows.nth(0)).toContainText('✗ Failed');
  await expect(rows.nth(0)).toContainText('File is over the 10 MB limit (413)');
  await expect(page.getByRole('row', { name: /papers\/attention\.pdf/ })).toContainText('↓ Downloaded');
  await expect(page.getByRole('row', { name: /old\/draft\.md/ })).toContainText('Deleted on the hub');
  const issues = page.locator('#issues li');
  await expect(issues).toHaveCount(1);
  await expect(issues.first()).toContainText('data/huge.bin is 24 MB; the hub accepts up to 10 MB');
  await expect(issues.first()).toContainText('What to do: This file is over the hub’s size limit');
  await shot(page, 'activity');
});

test('errors carry what to do, and a button that goes there', async ({ openPage }) => {
  const scenario = defaultScenario();
  scenario.status = {
    phase: 'error',
    pending: 0,
    conflicts: scenario.conflicts.slice(0, 2),
    issues: [
      { code: 'auth', message: 'The hub rejected the API key (401)' },
      { code: 'mass_delete', message: '41 of 60 files would be deleted on the hub', hint: 'Bring them back, or delete them on the hub too if that was intended.' },
    ],
  };
  const page = await openPage('activity', scenario);
  await expect(page.locator('#phase-text')).toHaveText('Needs attention · 2 conflicts to resolve');
  await expect(page.locator('#phase-dot')).toBeVisible();
  expect(await page.locator('#phase-dot').evaluate((d) => getComputedStyle(d).backgroundColor)).toBe('rgb(179, 38, 30)');
  const issues = page.locator('#issues li');
  await expect(issues).toHaveCount(3);
  await expect(issues.nth(0)).toContainText('2 files were changed here and elsewhere.');
  await expect(issues.nth(1)).toContainText('What to do: The hub no longer accepts your API key. Enter a new key in Settings.');
  // The guard's question is put in the app's words (the engine's hint also names the command line).
  await expect(issues.nth(2)).toContainText('What to do: These files were deleted from this folder. Bring them back from the hub');
  await shot(page, 'activity-errors');

  await page.getByRole('button', { name: 'Resolve conflicts' }).click();
  await page.getByRole('button', { name: 'Open settings' }).click();
  const calls = (await fake(page)).calls.filter((c) => c.channel === 'app:open-window').map((c) => c.request);
  expect(calls).toEqual([{ page: 'conflicts' }, { page: 'settings' }]);

  // The guard asks, with both answers (tests/e2e/guard.spec.ts presses them).
  await expect(issues.nth(2).getByRole('button', { name: 'Bring them back' })).toBeVisible();
  await expect(issues.nth(2).getByRole('button', { name: 'Delete them on the hub too' })).toBeVisible();
});

test('updates live from the engine', async ({ openPage }) => {
  const scenario = defaultScenario();
  scenario.activity = [];
  scenario.status = { phase: 'idle', pending: 0, conflicts: [], issues: [] };
  const page = await openPage('activity', scenario);
  await expect(page.locator('#no-changes')).toBeVisible();
  await expect(page.locator('#issues-section')).toBeHidden();
  await emit(page, 'status:changed', {
    phase: 'syncing',
    pending: 3,
    conflicts: [],
    issues: [],
    progress: { filesDone: 1, filesTotal: 3, bytesDone: 1_048_576, bytesTotal: 5_242_880 },
  });
  await expect(page.locator('#phase-text')).toHaveText('Syncing 1 of 3 files (1.0 MB of 5.0 MB)');
  await emit(page, 'activity:added', { at: new Date().toISOString(), path: 'new/file.md', direction: 'down', outcome: 'ok' });
  await expect(page.locator('#changes-body tr')).toHaveCount(1);
  await expect(page.locator('#changes-body tr')).toContainText('new/file.md');
  await expect(page.locator('#no-changes')).toBeHidden();
});

test('keyboard only: Tab reaches the actions; Enter opens the log, Escape closes', async ({ openPage }) => {
  const scenario = defaultScenario();
  // Each change row has a "Version history…" button; with none, Tab goes straight to the actions.
  scenario.activity = [];
  scenario.status.issues = [];
  const page = await openPage('activity', scenario);
  await page.keyboard.press('Tab');
  await expect(page.getByRole('button', { name: 'Deleted files…' })).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(page.getByRole('button', { name: 'Open log' })).toBeFocused();
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  await expect(page.getByRole('button', { name: 'Close' })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect
    .poll(async () => (await fake(page)).calls.map((c) => c.channel).filter((c) => c === 'app:open-log' || c === 'window:close'))
    .toEqual(['app:open-log', 'window:close']);
});

test('dark mode', async ({ openPage, page }) => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await openPage('activity');
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(bg).toBe('rgb(30, 31, 34)');
  await shot(page, 'activity-dark');
});
