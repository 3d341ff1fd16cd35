// Version history and Deleted files in Chromium with the fake bridge: what the hub kept of a file
// (time, size, why, by whom), its text preview and "Restore"; the hub's deleted files and this
// computer's trash in one list, newest first, searchable, each restorable; errors said plainly;
// light and dark.
import { defaultScenario, expect, fake, shot, test } from './harness.ts';
import { historyScenario } from './history-scenario.ts';

function scenario() {
  return { ...defaultScenario(), history: historyScenario() };
}

test('Version history: the kept versions newest first with time, size, why and origin, and a preview of the newest', async ({ openPage }) => {
  const page = await openPage('history', scenario(), { path: 'notes/plan.md' });
  await expect(page.locator('#file')).toHaveText('notes/plan.md');
  await expect(page.locator('#summary')).toContainText('3 versions kept by the hub, newest first');
  const rows = page.locator('#versions-body tr');
  await expect(rows).toHaveCount(3);
  await expect(rows.nth(0)).toContainText('2.0 KB');
  await expect(rows.nth(0)).toContainText('Replaced');
  await expect(rows.nth(0)).toContainText('agent');
  await expect(rows.nth(0)).toContainText('latest kept');
  await expect(rows.nth(1)).toContainText('laptop');
  await expect(rows.nth(2).locator('td').nth(3)).toHaveText('—');
  // The newest is previewed at once, and marked as the selected row.
  await expect(page.getByLabel(/^Version of .*, text$/)).toContainText('Section 2 done by the agent');
  await expect(rows.nth(0)).toHaveAttribute('aria-selected', 'true');
  await shot(page, 'history');

  await rows.nth(1).getByRole('button', { name: 'Preview' }).click();
  await expect(page.getByLabel(/^Version of .*, text$/)).toContainText('Write section 2 tonight');
  await expect(page.locator('#preview')).toContainText('Preview shows the beginning of the file only.');
  await expect(rows.nth(1)).toHaveAttribute('aria-selected', 'true');

  await rows.nth(1).getByRole('button', { name: 'Restore' }).click();
  await expect(page.locator('#status')).toHaveText('notes/plan.md restored; it syncs to this folder now');
  await expect(rows.nth(1).locator('button[data-restore]')).toHaveText('Restored');
  await expect(rows.nth(1).locator('button[data-restore]')).toBeDisabled();
  // The other versions can still be restored.
  await expect(rows.nth(0).locator('button[data-restore]')).toBeEnabled();
  const calls = (await fake(page)).calls.filter((c) => c.channel.startsWith('history:'));
  expect(calls).toEqual([
    { channel: 'history:versions', request: { path: 'notes/plan.md' } },
    { channel: 'history:preview', request: { path: 'notes/plan.md', versionId: '1764238500000-0a1b2c3d' } },
    { channel: 'history:preview', request: { path: 'notes/plan.md', versionId: '1764152100000-1b2c3d4e' } },
    { channel: 'history:restore', request: { path: 'notes/plan.md', versionId: '1764152100000-1b2c3d4e' } },
  ]);
});

test('Version history: a binary version has no preview, a failed restore says why and can be tried again', async ({ openPage }) => {
  const page = await openPage('history', scenario(), { path: 'reports/budget.xlsx' });
  await expect(page.locator('#versions-body tr')).toHaveCount(1);
  await expect(page.locator('#versions-body tr')).toContainText('Deleted');
  await expect(page.locator('#preview')).toContainText('No preview: this version is not a text file.');
  await page.getByRole('button', { name: /^Restore the version/ }).click();
  await expect(page.locator('#status')).toHaveText('Not restored: the hub refused the restore: quota exceeded (507)');
  await expect(page.locator('#status')).toHaveClass(/fail/);
  await expect(page.getByRole('button', { name: /^Restore the version/ })).toBeEnabled();
});

test('Version history: no kept version, and a hub that cannot be reached, are said plainly', async ({ openPage, page }) => {
  await openPage('history', scenario(), { path: 'new.md' });
  await expect(page.locator('#summary')).toContainText('The hub keeps no earlier version of this file');
  await expect(page.locator('#versions-section')).toBeHidden();
  await page.goto(page.url().replace('new.md', 'elsewhere.md'));
  await expect(page.locator('body[data-ready="true"]')).toBeAttached();
  await expect(page.getByRole('alert')).toHaveText('Could not load the history: the hub is unreachable (connect ECONNREFUSED 127.0.0.1:8100)');
  await shot(page, 'history-error');
});

test('Version history in dark mode', async ({ openPage, page }) => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await openPage('history', scenario(), { path: 'notes/plan.md' });
  await expect(page.getByLabel(/^Version of .*, text$/)).toBeVisible();
  expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(30, 31, 34)');
  await shot(page, 'history-dark');
});

test('Deleted files: hub and trash in one list, newest first; search; restore from either', async ({ openPage }) => {
  const page = await openPage('deleted', scenario());
  const rows = page.locator('#deleted-body tr');
  await expect(rows).toHaveCount(4);
  await expect(page.locator('#summary')).toContainText('4 deleted files');
  await expect(rows.nth(0)).toContainText('drafts/essay-v2.md');
  await expect(rows.nth(0)).toContainText('The hub');
  await expect(rows.nth(0)).toContainText('deleted by laptop · 3 versions');
  await expect(rows.nth(1)).toContainText('papers/attention.pdf');
  await expect(rows.nth(1)).toContainText('This computer’s trash');
  await expect(rows.nth(1)).toContainText('2.1 MB');
  await expect(rows.nth(3)).toContainText('notes/old.txt');
  await shot(page, 'deleted');

  await page.getByLabel('Search').fill('NOTES/');
  await expect(rows).toHaveCount(1);
  await expect(page.locator('#summary')).toContainText('(1 shown)');
  await rows.nth(0).getByRole('button', { name: 'Restore notes/old.txt from the trash' }).click();
  await expect(page.locator('#status')).toHaveText('notes/old.txt put back into the folder');
  await expect(rows.nth(0).getByRole('button', { name: /from the trash/ })).toHaveText('Restored');

  await page.getByLabel('Search').fill('nothing-like-this');
  await expect(page.locator('#empty')).toHaveText('No deleted file matches “nothing-like-this”.');
  await page.getByLabel('Search').fill('');
  await expect(rows).toHaveCount(4);
  // Restored stays restored while the list is filtered and shown again.
  await expect(rows.nth(3).getByRole('button', { name: /from the trash/ })).toBeDisabled();

  await rows.nth(0).getByRole('button', { name: 'Restore drafts/essay-v2.md from the hub' }).click();
  await expect(page.locator('#status')).toHaveText('drafts/essay-v2.md restored from the hub');
  await rows.nth(2).getByRole('button', { name: /Restore reports\/budget\.xlsx/ }).click();
  await expect(page.locator('#status')).toHaveText('Not restored: the hub refused the restore: quota exceeded (507)');
  await expect(rows.nth(2).getByRole('button', { name: /Restore reports\/budget\.xlsx/ })).toBeEnabled();
  await rows.nth(0).getByRole('button', { name: 'Version history of drafts/essay-v2.md' }).click();

  const calls = (await fake(page)).calls.filter((c) => c.channel.startsWith('deleted:restore') || c.channel === 'history:open');
  expect(calls).toEqual([
    { channel: 'deleted:restore', request: { source: 'trash', id: '2026-11-26T08-00-00-000Z-d4e5f6/notes/old.txt', path: 'notes/old.txt' } },
    { channel: 'deleted:restore', request: { source: 'hub', id: '1764324900000-4e5f6071', path: 'drafts/essay-v2.md' } },
    { channel: 'deleted:restore', request: { source: 'hub', id: '1764238500000-3d4e5f60', path: 'reports/budget.xlsx' } },
    { channel: 'history:open', request: { path: 'drafts/essay-v2.md' } },
  ]);
});

test('Deleted files: the hub unreachable still shows the trash, and says why the rest is missing', async ({ openPage }) => {
  const s = scenario();
  s.history.deleted = {
    entries: s.history.deleted.entries.filter((e) => e.source === 'trash'),
    hubError: 'the hub is unreachable (connect ECONNREFUSED 127.0.0.1:8100)',
  };
  const page = await openPage('deleted', s);
  await expect(page.getByRole('alert')).toHaveText('The hub’s deleted files could not be listed: the hub is unreachable (connect ECONNREFUSED 127.0.0.1:8100)');
  await expect(page.locator('#deleted-body tr')).toHaveCount(2);
  await shot(page, 'deleted-hub-offline');
});

test('Deleted files in dark mode', async ({ openPage, page }) => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await openPage('deleted', scenario());
  await expect(page.locator('#deleted-body tr')).toHaveCount(4);
  expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(30, 31, 34)');
  await shot(page, 'deleted-dark');
});

test('Deleted files: nothing deleted', async ({ openPage }) => {
  const s = scenario();
  s.history.deleted = { entries: [] };
  const page = await openPage('deleted', s);
  await expect(page.locator('#empty')).toHaveText('Nothing deleted in the last 30 days.');
  await expect(page.locator('#deleted')).toBeHidden();
});

test('Recent activity opens a file\'s "Version history…" and "Deleted files…"', async ({ openPage, page }) => {
  await openPage('activity', scenario());
  await page.getByRole('button', { name: 'Version history of papers/attention.pdf' }).click();
  await page.getByRole('button', { name: 'Deleted files…' }).click();
  await expect
    .poll(async () => (await fake(page)).calls.filter((c) => c.channel === 'history:open' || c.channel === 'deleted:open'))
    .toEqual([
      { channel: 'history:open', request: { path: 'papers/attention.pdf' } },
      { channel: 'deleted:open', request: undefined },
    ]);
});

test('"Version history…" in the conflict dialog', async ({ openPage, page }) => {
  await openPage('conflicts', scenario());
  await page.getByRole('article', { name: 'todo.txt' }).getByRole('button', { name: 'Version history of todo.txt' }).click();
  await expect.poll(async () => (await fake(page)).calls.filter((c) => c.channel === 'history:open')).toEqual([{ channel: 'history:open', request: { path: 'todo.txt' } }]);
});
