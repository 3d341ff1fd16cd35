// Settings window in Chromium with the fake bridge: first-run happy path, field validation that
// blocks saving, test connection, the keychain message, keyboard-only use, dark mode.
import { configuredSettings, defaultScenario, expect, fake, shot, test } from './harness.ts';

test('first run: fill in everything, save, and the input reaches main as typed', async ({ openPage }) => {
  const page = await openPage('settings');
  await expect(page.locator('#intro')).toContainText('Welcome');
  await expect(page.locator('#serverUrl')).toBeFocused();
  await shot(page, 'settings-first-run');

  await page.getByLabel('Hub address').fill('https://hub.example.org');
  await page.getByLabel('API key').fill('yl_live_ada_0123456789');
  await expect(page.getByLabel('API key')).toHaveAttribute('type', 'password');
  await page.getByRole('button', { name: 'Browse…' }).click();
  await expect(page.getByLabel('Local folder')).toHaveValue('/home/ada/YouLab');
  await page.getByLabel('Check the hub every (seconds)').fill('60');
  await page.getByLabel('Wait after a local change (ms)').fill('500');
  await page.getByLabel('Ignore patterns').fill('*.log\nbuild/\n');
  await page.getByLabel('Start YouLab Sync when I log in').check();
  await page.getByRole('button', { name: 'Save' }).click();

  await expect(page.locator('#save-status')).toHaveText('Saved. Syncing with the new settings.');
  await expect(page.locator('#intro')).not.toContainText('Welcome');
  const { saved } = await fake(page);
  expect(saved).toEqual([
    {
      serverUrl: 'https://hub.example.org',
      apiKey: 'yl_live_ada_0123456789',
      localFolder: '/home/ada/YouLab',
      intervalSeconds: 60,
      debounceMs: 500,
      ignore: ['*.log', 'build/', ''],
      startAtLogin: true,
      openWebuiUrl: '',
    },
  ]);
  // The key is never shown again; the field says one is stored.
  await expect(page.getByLabel('API key')).toHaveValue('');
  await expect(page.getByLabel('API key')).toHaveAttribute('placeholder', /saved/);
  await shot(page, 'settings-saved');
});

test('invalid input is explained next to each field and nothing is saved', async ({ openPage }) => {
  const page = await openPage('settings');
  await page.getByLabel('Hub address').fill('hub.example.org');
  await page.getByLabel('Local folder').fill('YouLab');
  await page.getByLabel('Check the hub every (seconds)').fill('2');
  await page.getByLabel('Wait after a local change (ms)').fill('100');
  await page.getByLabel('Ignore patterns').fill('*.log\n../secrets\n');
  await page.getByLabel('Open WebUI address').fill('ftp://files.example.org');
  await page.getByRole('button', { name: 'Save' }).click();

  await expect(page.locator('#serverUrl-error')).toContainText('Enter the full hub address');
  await expect(page.locator('#localFolder-error')).toContainText('Use a full path');
  await expect(page.locator('#intervalSeconds-error')).toContainText('between 5 and 86400');
  await expect(page.locator('#ignore-error')).toContainText("line 2: '..' cannot match inside the folder");
  await expect(page.locator('#openWebuiUrl-error')).toContainText('must start with https:// or http://');
  await expect(page.locator('#debounceMs-error')).toBeEmpty();
  for (const id of ['serverUrl', 'localFolder', 'intervalSeconds', 'ignore', 'openWebuiUrl']) {
    await expect(page.locator(`#${id}`)).toHaveAttribute('aria-invalid', 'true');
  }
  // Focus goes to the first field that needs fixing; the summary is announced.
  await expect(page.locator('#serverUrl')).toBeFocused();
  await expect(page.locator('#save-status')).toHaveText('Not saved: 5 fields need attention.');
  await shot(page, 'settings-validation-errors');
  expect((await fake(page)).saved).toEqual([]);

  // Fixing the URL clears its message at once; a folder that does not exist is still refused.
  await page.getByLabel('Hub address').fill('https://hub.example.org');
  await expect(page.locator('#serverUrl-error')).toBeEmpty();
  await page.getByLabel('Local folder').fill('/nowhere/YouLab');
  await page.getByLabel('Check the hub every (seconds)').fill('30');
  await page.getByLabel('Ignore patterns').fill('*.log');
  await page.getByLabel('Open WebUI address').fill('');
  await page.getByLabel('API key').fill('yl_live_ada_0123456789');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#localFolder-error')).toHaveText('This folder does not exist; choose an existing folder');
  expect((await fake(page)).saved).toEqual([]);
});

test('a number field left empty is flagged without a round trip', async ({ openPage }) => {
  const page = await openPage('settings', { ...defaultScenario(), settings: configuredSettings() });
  await page.getByLabel('Wait after a local change (ms)').fill('');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#debounceMs-error')).toHaveText('Enter a number');
  const { calls } = await fake(page);
  expect(calls.map((c) => c.channel)).not.toContain('settings:save');
});

test('a new hub needs a key before anything is saved', async ({ openPage }) => {
  const page = await openPage('settings');
  await page.getByLabel('Hub address').fill('https://hub.example.org');
  await page.getByLabel('Local folder').fill('/home/ada/YouLab');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#apiKey-error')).toHaveText('Enter the API key for this hub');
  expect((await fake(page)).saved).toEqual([]);
});

test('saving a configured hub without typing a key keeps the stored key', async ({ openPage }) => {
  const page2 = await openPage('settings', { ...defaultScenario(), settings: configuredSettings(), storedKey: 'yl_live_ada_0123456789' });
  await expect(page2.getByLabel('Ignore patterns')).toHaveValue('*.log\nbuild/');
  await page2.getByRole('button', { name: 'Save' }).click();
  await expect(page2.locator('#save-status')).toHaveText('Saved. Syncing with the new settings.');
  const saved = (await fake(page2)).saved;
  expect(saved).toHaveLength(1);
  expect(saved[0]).not.toHaveProperty('apiKey');
});

test('test connection shows the user id, or the exact error', async ({ openPage }) => {
  const page = await openPage('settings');
  await page.getByLabel('Hub address').fill('https://hub.example.org');
  await page.getByLabel('API key').fill('wrong-key');
  await page.getByRole('button', { name: 'Test connection' }).click();
  await expect(page.locator('#test-result')).toHaveText('✗ The hub rejected this API key (HTTP 401): unknown API key');
  await expect(page.locator('#test-result')).toHaveClass(/fail/);
  await shot(page, 'settings-test-connection-failed');

  await page.getByLabel('API key').fill('yl_live_ada_0123456789');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page.getByLabel('API key')).toHaveAttribute('type', 'text');
  await expect(page.getByRole('button', { name: 'Hide' })).toHaveAttribute('aria-pressed', 'true');
  await page.getByRole('button', { name: 'Test connection' }).click();
  await expect(page.locator('#test-result')).toHaveText('✓ Connected as ada');
  // Testing saves nothing.
  expect((await fake(page)).saved).toEqual([]);
});

test('no keychain: the window says so plainly', async ({ openPage }) => {
  const scenario = defaultScenario();
  scenario.settings = {
    ...configuredSettings(),
    hasApiKey: false,
    keychainError: 'No OS keychain is available to store the API key (on Linux, a Secret Service such as gnome-keyring must be running and unlocked).',
  };
  const page = await openPage('settings', scenario);
  await expect(page.getByRole('alert')).toContainText('No OS keychain is available');
  await shot(page, 'settings-no-keychain');
});

test('keyboard only: tab order follows the form, Space toggles, Enter saves', async ({ openPage }) => {
  const page = await openPage('settings', { ...defaultScenario(), settings: configuredSettings(), storedKey: 'k' });
  await page.locator('#serverUrl').focus();
  const order = [
    'apiKey',
    'toggle-key',
    'test-connection',
    'openWebuiUrl',
    'openWebuiToken',
    'signin-button',
    'localFolder',
    'pick-folder',
    'intervalSeconds',
    'debounceMs',
    'ignore',
    'startAtLogin',
    'cancel',
    'save',
  ];
  for (const id of order) {
    await page.keyboard.press('Tab');
    await expect(page.locator(`#${id}`)).toBeFocused();
  }
  await page.locator('#startAtLogin').focus();
  await page.keyboard.press('Space');
  await expect(page.locator('#startAtLogin')).not.toBeChecked();
  await page.locator('#toggle-key').focus();
  await page.keyboard.press('Enter');
  await expect(page.locator('#apiKey')).toHaveAttribute('type', 'text');
  // Enter in a text field submits the form.
  await page.locator('#intervalSeconds').focus();
  await page.keyboard.press('Control+A');
  await page.keyboard.type('45');
  await page.keyboard.press('Enter');
  await expect(page.locator('#save-status')).toHaveText('Saved. Syncing with the new settings.');
  const saved = (await fake(page)).saved;
  expect(saved[0]).toMatchObject({ intervalSeconds: 45, startAtLogin: false });
  // Escape asks main to close the window.
  await page.keyboard.press('Escape');
  await expect.poll(async () => (await fake(page)).calls.some((c) => c.channel === 'window:close')).toBe(true);
});

test('dark mode renders with dark surfaces and readable text', async ({ openPage, page }) => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await openPage('settings', { ...defaultScenario(), settings: configuredSettings() });
  const colors = await page.evaluate(() => {
    const body = getComputedStyle(document.body);
    return { bg: body.backgroundColor, fg: body.color };
  });
  expect(colors.bg).toBe('rgb(30, 31, 34)');
  expect(colors.fg).toBe('rgb(236, 236, 239)');
  await page.getByRole('button', { name: 'Save' }).focus();
  await shot(page, 'settings-dark');
});
