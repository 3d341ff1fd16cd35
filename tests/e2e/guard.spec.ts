// The mass-delete guard's question under Recent activity, in Chromium with the fake bridge: it
// says what happened and offers both answers, "Bring them back" and "Delete them on the hub too"
// (or "here too" when the files went from the hub); each runs one round through its own channel,
// a failure says why and lets the user answer again; light and dark.
import type { EngineIssue } from '../../app/engine-api/types.ts';
import { defaultScenario, expect, fake, shot, test } from './harness.ts';
import { historyScenario } from './history-scenario.ts';

const GUARD_HINT =
  'Bring them back (desktop app: Recent activity, "Bring them back"; command line: youlab-sync --once --restore-deleted), or, if the deletes are intended, delete them on the other side too ("Delete them on the hub too"; youlab-sync --once --allow-mass-delete). Either way nothing is lost: the hub keeps deleted versions, this computer its trash.';

function stopped(issue: Partial<EngineIssue> = {}) {
  const s = { ...defaultScenario(), history: historyScenario() };
  s.status = {
    phase: 'error',
    pending: 0,
    conflicts: [],
    issues: [
      {
        code: 'mass_delete',
        message: 'sync stopped: 41 files are gone from this folder, and this round would delete 41 of 60 files on the hub (over 50%); nothing was deleted',
        hint: GUARD_HINT,
        deletes: { where: 'hub', count: 41, of: 60 },
        ...issue,
      },
    ],
  };
  return s;
}

test('"Bring them back" runs the restoring round and says what came back', async ({ openPage }) => {
  const page = await openPage('activity', stopped());
  const issue = page.locator('#issues li');
  await expect(issue).toContainText('41 files are gone from this folder');
  await expect(issue).toContainText('What to do: These files were deleted from this folder. Bring them back from the hub, or delete them on the hub too if you meant to');
  const back = issue.getByRole('button', { name: 'Bring them back' });
  const del = issue.getByRole('button', { name: 'Delete them on the hub too' });
  await expect(back).toBeVisible();
  await expect(del).toBeVisible();
  await shot(page, 'guard');
  await back.click();
  await expect(issue.getByRole('status')).toHaveText('Done: 41 files brought back');
  await expect(back).toBeDisabled();
  await expect(del).toBeDisabled();
  const calls = (await fake(page)).calls.map((c) => c.channel).filter((c) => c.startsWith('sync:'));
  expect(calls).toEqual(['sync:restore-deleted']);
});

test('"Delete them on the hub too" runs the confirmed round', async ({ openPage }) => {
  const page = await openPage('activity', stopped());
  const issue = page.locator('#issues li');
  const del = issue.getByRole('button', { name: 'Delete them on the hub too' });
  await del.focus();
  await page.keyboard.press('Enter');
  await expect(issue.getByRole('status')).toHaveText('Done: 41 files deleted');
  const calls = (await fake(page)).calls.map((c) => c.channel).filter((c) => c.startsWith('sync:'));
  expect(calls).toEqual(['sync:confirm-deletes']);
});

test('files gone from the hub: the other answer is "Delete them here too"; a failure can be answered again', async ({ openPage }) => {
  const s = stopped({
    message: 'sync stopped: 30 files are gone from the hub, and this round would delete 30 of 40 files on the local folder (over 50%); nothing was deleted',
    deletes: { where: 'local', count: 30, of: 40 },
  });
  s.history.guard = { restore: { ok: false, message: 'the hub is unreachable (connect ECONNREFUSED 127.0.0.1:8100)' } };
  const page = await openPage('activity', s);
  const issue = page.locator('#issues li');
  await expect(issue).toContainText('What to do: These files were deleted on the hub. Bring them back (this folder still has them');
  await expect(issue.getByRole('button', { name: 'Delete them here too' })).toBeVisible();
  await expect(issue.getByRole('button', { name: 'Delete them on the hub too' })).toHaveCount(0);
  await issue.getByRole('button', { name: 'Bring them back' }).click();
  await expect(issue.getByRole('status')).toHaveText('Not done: the hub is unreachable (connect ECONNREFUSED 127.0.0.1:8100)');
  await expect(issue.getByRole('button', { name: 'Bring them back' })).toBeEnabled();
  await expect(issue.getByRole('button', { name: 'Delete them here too' })).toBeEnabled();
  await shot(page, 'guard-failed');
});

test('the guard in dark mode', async ({ openPage, page }) => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await openPage('activity', stopped());
  await expect(page.getByRole('button', { name: 'Bring them back' })).toBeVisible();
  expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(30, 31, 34)');
  await shot(page, 'guard-dark');
});
