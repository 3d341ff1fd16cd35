// Conflict dialog in Chromium with the fake bridge: both versions with size, time and device,
// side-by-side text preview, every action per file and for all, keyboard use, dark mode.
import { defaultScenario, emit, expect, fake, shot, test } from './harness.ts';

test('lists every conflict with both versions and a side-by-side text preview', async ({ openPage }) => {
  const page = await openPage('conflicts');
  await expect(page.locator('body[data-previews="true"]')).toBeAttached();
  await expect(page.locator('#summary')).toContainText('These 3 files were changed on this device and elsewhere');
  const cards = page.locator('article.conflict');
  await expect(cards).toHaveCount(3);

  const plan = page.getByRole('article', { name: 'notes/plan.md' });
  const mine = plan.locator('section.version').nth(0);
  const theirs = plan.locator('section.version').nth(1);
  await expect(mine.locator('h3')).toHaveText('Mine (this device)');
  await expect(mine).toContainText('1.8 KB');
  await expect(mine).toContainText('laptop');
  await expect(theirs).toContainText('2.0 KB');
  await expect(theirs).toContainText('the hub (its current version)');
  await expect(mine.locator('pre.preview')).toContainText('Write section 2 tonight');
  await expect(theirs.locator('pre.preview')).toContainText('Section 2 done by the agent');
  // Lines only one side has are marked.
  await expect(theirs.locator('pre.preview .diff')).toHaveText(['- Section 2 done by the agent\n', '- Review on Friday\n']);
  // A binary file says so instead of showing bytes.
  await expect(page.getByRole('article', { name: 'reports/budget.xlsx' })).toContainText('No text preview (binary or unreadable file).');
  await shot(page, 'conflicts-list');
});

for (const [keep, button, text] of [
  ['mine', 'Keep mine', 'Kept your version of notes/plan.md. Syncing now.'],
  ['theirs', 'Keep theirs', 'Kept the hub’s version of notes/plan.md. Syncing now.'],
  ['both', 'Keep both', 'Kept both versions of notes/plan.md. Syncing now.'],
] as const) {
  test(`${button} resolves that one file and leaves the others`, async ({ openPage }) => {
    const page = await openPage('conflicts');
    const plan = page.getByRole('article', { name: 'notes/plan.md' });
    await plan.getByRole('button', { name: button, exact: true }).click();
    await expect(page.locator('#status')).toHaveText(text);
    await expect(plan).toHaveCount(0);
    await expect(page.locator('article.conflict')).toHaveCount(2);
    expect((await fake(page)).resolved).toEqual([{ path: 'notes/plan.md', keep }]);
    // Focus lands on the next conflict so the keyboard user carries on.
    await expect(page.getByRole('heading', { name: 'reports/budget.xlsx' })).toBeFocused();
  });
}

for (const [keep, button] of [
  ['mine', 'Keep mine for all'],
  ['theirs', 'Keep theirs for all'],
  ['both', 'Keep both for all'],
] as const) {
  test(`${button} resolves every conflict at once`, async ({ openPage }) => {
    const page = await openPage('conflicts');
    await page.getByRole('button', { name: button }).click();
    await expect(page.locator('#status')).toContainText('3 files. Syncing now.');
    await expect(page.locator('article.conflict')).toHaveCount(0);
    await expect(page.locator('#summary')).toHaveText('No conflicts. Everything is in sync.');
    await expect(page.getByRole('button', { name: button })).toBeHidden();
    const { resolved } = await fake(page);
    expect(resolved).toEqual(['notes/plan.md', 'reports/budget.xlsx', 'todo.txt'].map((path) => ({ path, keep })));
    if (keep === 'both') await shot(page, 'conflicts-all-resolved');
  });
}

test('a failed resolve is reported and the conflict stays', async ({ openPage }) => {
  const scenario = defaultScenario();
  scenario.resolveFailures = { 'todo.txt': 'The hub is unreachable; try again when online' };
  const page = await openPage('conflicts', scenario);
  await page.getByRole('article', { name: 'todo.txt' }).getByRole('button', { name: 'Keep mine' }).click();
  await expect(page.locator('#status')).toHaveText('todo.txt: The hub is unreachable; try again when online');
  await expect(page.locator('#status')).toHaveClass(/fail/);
  await expect(page.getByRole('article', { name: 'todo.txt' })).toHaveCount(1);
});

test('a conflict that appears while the dialog is open is added', async ({ openPage }) => {
  const scenario = defaultScenario();
  const [first, ...rest] = scenario.conflicts;
  scenario.conflicts = [first!];
  const page = await openPage('conflicts', scenario);
  await expect(page.locator('article.conflict')).toHaveCount(1);
  await expect(page.getByRole('button', { name: 'Keep mine for all' })).toBeHidden();
  await page.evaluate((more) => {
    (window as unknown as { __fake: { addConflicts(m: unknown): void } }).__fake.addConflicts(more);
  }, rest);
  await emit(page, 'status:changed', { ...scenario.status, conflicts: [first!, ...rest] });
  await expect(page.locator('article.conflict')).toHaveCount(3);
  await expect(page.getByRole('article', { name: 'todo.txt' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Keep mine for all' })).toBeVisible();
});

test('keyboard only: Tab reaches every action in reading order; Enter and Space press them', async ({ openPage }) => {
  const page = await openPage('conflicts');
  await expect(page.locator('body[data-previews="true"]')).toBeAttached();
  await page.keyboard.press('Tab');
  await expect(page.getByRole('button', { name: 'Keep mine for all' })).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(page.getByRole('button', { name: 'Keep theirs for all' })).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(page.getByRole('button', { name: 'Keep both for all' })).toBeFocused();
  // The two previews of the first file are scrollable regions, reachable by keyboard.
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('Your version of notes/plan.md')).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('Hub version of notes/plan.md')).toBeFocused();
  await page.keyboard.press('Tab');
  const plan = page.getByRole('article', { name: 'notes/plan.md' });
  await expect(plan.getByRole('button', { name: 'Keep mine' })).toBeFocused();
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  await expect(plan.getByRole('button', { name: 'Keep both' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator('#status')).toHaveText('Kept both versions of notes/plan.md. Syncing now.');
  // Focus moved to the next file's heading; Tab goes on into that card.
  await expect(page.getByRole('heading', { name: 'reports/budget.xlsx' })).toBeFocused();
  await page.keyboard.press('Tab');
  const budget = page.getByRole('article', { name: 'reports/budget.xlsx' });
  await expect(budget.getByRole('button', { name: 'Keep mine' })).toBeFocused();
  await page.keyboard.press('Tab');
  await page.keyboard.press('Space');
  await expect(page.locator('#status')).toHaveText('Kept the hub’s version of reports/budget.xlsx. Syncing now.');
  expect((await fake(page)).resolved).toEqual([
    { path: 'notes/plan.md', keep: 'both' },
    { path: 'reports/budget.xlsx', keep: 'theirs' },
  ]);
});

test('dark mode', async ({ openPage, page }) => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await openPage('conflicts');
  await expect(page.locator('body[data-previews="true"]')).toBeAttached();
  const bg = await page.evaluate(() => getComputedStyle(document.querySelector('article.conflict')!).backgroundColor);
  expect(bg).toBe('rgb(42, 43, 47)');
  await shot(page, 'conflicts-dark');
});
