// Settings window, issue 18: "Sign in with Open WebUI" with its errors, and the Devices list
// ("This device", Disconnect), in Chromium with the fake bridge; screenshots light and dark.
import { configuredSettings, defaultScenario, expect, fake, shot, test } from './harness.ts';
import type { Scenario } from './fake-bridge.ts';

const DEVICES: NonNullable<Scenario['devices']> = [
  { id: 'a'.repeat(16), device: 'ada-desktop', created: '2026-11-02T09:00:00.000Z', lastUsed: '2026-12-01T03:58:00.000Z', current: true },
  { id: 'b'.repeat(16), device: 'old laptop', created: '2026-06-10T12:00:00.000Z', lastUsed: '2026-09-30T18:20:00.000Z', current: false },
  { id: 'c'.repeat(16), device: 'lab-pc', created: '2026-11-20T08:00:00.000Z', lastUsed: null, current: false },
];

test('sign in with Open WebUI: each mistake is explained where it happened; a good key signs this computer in', async ({ openPage }) => {
  const page = await openPage('settings', { ...defaultScenario(), openWebuiKeys: { 'sk-ada-owui-key': 'ada' } });
  await expect(page.locator('#signin-howto')).toContainText('Settings › Account');
  await expect(page.locator('#devices-status')).toHaveText('Sign in to see the devices connected as you.');

  // No hub address yet.
  await page.getByLabel('Open WebUI key').fill('sk-ada-owui-key');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('#serverUrl-error')).toContainText('Enter the full hub address');
  await expect(page.locator('#serverUrl')).toBeFocused();

  // A bad Open WebUI address, then an empty key, then a key Open WebUI refuses.
  await page.getByLabel('Hub address').fill('https://hub.example.org');
  await page.getByLabel('Open WebUI address').fill('chat.example.org');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('#openWebuiUrl-error')).toContainText('full Open WebUI address');
  await page.getByLabel('Open WebUI address').fill('https://chat.example.org');
  await page.getByLabel('Open WebUI key').fill('   ');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('#openWebuiToken-error')).toContainText('Settings › Account › API keys');
  await page.getByLabel('Open WebUI key').fill('sk-wrong');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('#openWebuiToken-error')).toContainText('Open WebUI did not accept this token');
  await expect(page.locator('#openWebuiToken')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#signin-result')).toHaveClass(/fail/);
  await shot(page, 'settings-signin-error');
  // Typing again clears the stale message.
  await page.getByLabel('Open WebUI key').fill('sk-ada-owui-key');
  await expect(page.locator('#openWebuiToken-error')).toBeEmpty();

  await page.getByLabel('Open WebUI key').press('Enter');
  await expect(page.locator('#signin-result')).toContainText('Signed in as ada');
  await expect(page.getByLabel('Open WebUI key')).toHaveValue('');
  await expect(page.getByLabel('API key', { exact: true })).toHaveAttribute('placeholder', /saved/);
  await expect(page.locator('li.device[data-current="true"]')).toContainText('This device');
  const calls = (await fake(page)).calls.filter((c) => c.channel === 'account:sign-in');
  expect(calls.at(-1)?.request).toEqual({ serverUrl: 'https://hub.example.org', openWebuiUrl: 'https://chat.example.org', openWebuiToken: 'sk-ada-owui-key' });
  // Enter in the key field signed in; it did not submit the settings form.
  expect((await fake(page)).saved).toEqual([]);
  await shot(page, 'settings-signed-in');

  // Saving now needs no pasted key: the signed-in key is stored.
  await page.getByLabel('Local folder').fill('/home/ada/YouLab');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#save-status')).toHaveText('Saved. Syncing with the new settings.');
});

test('the hub unreachable during sign-in is said plainly and nothing changes', async ({ openPage }) => {
  const page = await openPage('settings', { ...defaultScenario(), openWebuiKeys: { 'sk-ada-owui-key': 'ada' }, hubDown: true });
  await page.getByLabel('Hub address').fill('https://hub.example.org');
  await page.getByLabel('Open WebUI key').fill('sk-ada-owui-key');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('#signin-result')).toHaveText(/✗ Cannot reach the hub/);
  await expect(page.getByLabel('API key', { exact: true })).toHaveAttribute('placeholder', 'Paste your API key');
  await expect(page.locator('li.device')).toHaveCount(0);
});

test('devices: this device is marked and cannot be cut off from here; another one is disconnected', async ({ openPage }) => {
  const page = await openPage('settings', { ...defaultScenario(), settings: configuredSettings(), storedKey: 'yl_live_ada_0123456789', devices: DEVICES });
  const rows = page.locator('li.device');
  await expect(rows).toHaveCount(3);
  await expect(rows.nth(0)).toContainText('ada-desktop');
  await expect(rows.nth(0).locator('.badge')).toHaveText('This device');
  await expect(rows.nth(0).getByRole('button')).toHaveCount(0);
  await expect(rows.nth(2)).toContainText('never used');
  await shot(page, 'settings-devices');

  await page.getByRole('button', { name: 'Disconnect old laptop' }).click();
  await expect(page.locator('#devices-status')).toHaveText('old laptop is disconnected; it can no longer sync.');
  await expect(rows).toHaveCount(2);
  await expect(page.locator('li.device', { hasText: 'old laptop' })).toHaveCount(0);
  const disconnects = (await fake(page)).calls.filter((c) => c.channel === 'account:disconnect');
  expect(disconnects.map((c) => c.request)).toEqual([{ serverUrl: configuredSettings().serverUrl, keyId: 'b'.repeat(16) }]);
});

test('devices in dark mode', async ({ openPage, page }) => {
  await page.emulateMedia({ colorScheme: 'dark' });
  const p = await openPage('settings', { ...defaultScenario(), settings: configuredSettings(), storedKey: 'yl_live_ada_0123456789', devices: DEVICES });
  await expect(p.locator('li.device')).toHaveCount(3);
  const bg = await p.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(bg).not.toBe('rgb(255, 255, 255)');
  await p.locator('#devices-panel').scrollIntoViewIfNeeded();
  await shot(p, 'settings-devices-dark');
});
