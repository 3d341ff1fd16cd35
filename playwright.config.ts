// Renderer pages in Debian's Chromium (no browser download); the real-Electron spec launches
// its own binary and skips where none is installed. Artifacts go to test-results/.
import { defineConfig } from '@playwright/test';

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking'];

export default defineConfig({
  testDir: 'tests/e2e',
  testMatch: '*.spec.ts',
  outputDir: 'test-results/e2e',
  globalSetup: './tests/e2e/global-setup.ts',
  timeout: 30_000,
  expect: { timeout: 5_000 },
  fullyParallel: true,
  // Two cores shared with other work: two pages at a time is plenty.
  workers: 2,
  reporter: [['list']],
  use: {
    browserName: 'chromium',
    launchOptions: { executablePath: process.env.YOULAB_CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS },
    viewport: { width: 760, height: 900 },
    screenshot: 'only-on-failure',
    trace: 'off',
    video: 'off',
  },
});
