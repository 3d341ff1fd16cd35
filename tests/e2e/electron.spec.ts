// The real app through Playwright's _electron: runs where the Electron binary is installed
// (node_modules/electron/dist) and skips with the reason where it is not.
import { _electron as electron, expect, test } from '@playwright/test';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildMainAndPreload, buildRenderer } from '../../scripts/build-app.ts';

const root = resolve(import.meta.dirname, '..', '..');
const hasElectron = existsSync(join(root, 'node_modules', 'electron', 'dist'));

test.skip(!hasElectron, 'Electron binary not installed: node_modules/electron/dist missing (no internet to download it)');

test('first run opens a locked-down Settings window and lives in the tray', async () => {
  await buildRenderer(join(root, 'dist', 'renderer'));
  await buildMainAndPreload(join(root, 'dist'));
  const home = await mkdtemp(join(tmpdir(), 'youlab-electron-'));
  const app = await electron.launch({
    args: [root, '--no-sandbox'],
    env: { ...process.env, YOULAB_SYNC_CONFIG: join(home, 'config.yaml'), HOME: home },
  });
  try {
    const win = await app.firstWindow();
    await expect(win.locator('body[data-ready="true"]')).toBeAttached();
    expect(await win.title()).toBe('YouLab Sync Settings');
    await expect(win.locator('#intro')).toContainText('Welcome');
    // The page has the bridge and nothing of Node.
    expect(await win.evaluate(() => typeof (window as unknown as { youlab?: unknown }).youlab)).toBe('object');
    expect(await win.evaluate(() => typeof (globalThis as unknown as { require?: unknown }).require)).toBe('undefined');
    expect(await win.evaluate(() => typeof (globalThis as unknown as { process?: unknown }).process)).toBe('undefined');
    // Navigation away is refused.
    await win.evaluate(() => {
      window.location.href = 'https://example.org/';
    });
    await win.waitForTimeout(500);
    expect(win.url()).toMatch(/^file:.*settings\.html$/);
    // Closing the last window leaves the app running in the tray.
    await win.close();
    expect(await app.evaluate(({ app: a }) => a.isReady())).toBe(true);
  } finally {
    await app.close();
    await rm(home, { recursive: true, force: true });
  }
});
