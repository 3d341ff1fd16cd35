// Opens a built renderer page from dist/renderer over file:// (as Electron loads it) with the
// fake bridge installed, and fails the test on any console error (CSP violations included).
import { test as base, expect, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { invokeContract, isInvokeChannel } from '../../app/ipc/contract.ts';
import type { FakeRecord, Scenario } from './fake-bridge.ts';

const root = resolve(import.meta.dirname, '..', '..');
const rendererDir = join(root, 'dist', 'renderer');
const fakeBridgeJs = join(root, 'dist', 'e2e', 'fake-bridge.js');
export const SCREENSHOT_DIR = join(root, 'test-results', 'screenshots');

export type PageName = 'settings' | 'conflicts' | 'activity' | 'history' | 'deleted';

const hour = (h: number) => `2026-11-27T${String(h).padStart(2, '0')}:15:00.000Z`;

export function defaultScenario(): Scenario {
  return {
    settings: {
      serverUrl: '',
      hasApiKey: false,
      localFolder: '',
      intervalSeconds: 30,
      debounceMs: 300,
      ignore: [],
      startAtLogin: false,
      openWebuiUrl: '',
      firstRun: true,
    },
    existingFolders: ['/home/ada/YouLab'],
    keys: { 'yl_live_ada_0123456789': 'ada' },
    pickFolder: '/home/ada/YouLab',
    conflicts: [
      {
        path: 'notes/plan.md',
        copyPath: 'notes/plan (conflict laptop 2026-11-27 101500).md',
        device: 'laptop',
        detectedAt: hour(10),
        mine: { size: 1834, modified: hour(9), hash: 'sha256:' + 'a'.repeat(64) },
        theirs: { size: 2051, modified: hour(10), hash: 'sha256:' + 'b'.repeat(64) },
      },
      {
        path: 'reports/budget.xlsx',
        copyPath: 'reports/budget (conflict laptop 2026-11-27 101500).xlsx',
        device: 'laptop',
        detectedAt: hour(10),
        mine: { size: 48_213, modified: hour(8), hash: 'sha256:' + 'c'.repeat(64) },
        theirs: { size: 51_002, modified: hour(10), hash: 'sha256:' + 'd'.repeat(64) },
      },
      {
        path: 'todo.txt',
        copyPath: 'todo (conflict laptop 2026-11-27 101500).txt',
        device: 'laptop',
        detectedAt: hour(11),
        mine: { size: 120, modified: hour(11), hash: 'sha256:' + 'e'.repeat(64) },
        theirs: { size: 98, modified: hour(11), hash: 'sha256:' + 'f'.repeat(64) },
      },
    ],
    previews: {
      'notes/plan.md': {
        text: true,
        mine: '# Plan\n\n- Draft the outline\n- Ask Ralph about sources\n- Write section 2 tonight\n',
        theirs: '# Plan\n\n- Draft the outline\n- Ask Ralph about sources\n- Section 2 done by the agent\n- Review on Friday\n',
        truncated: false,
      },
      'todo.txt': { text: true, mine: 'milk\neggs\nbread\n', theirs: 'milk\neggs\ncoffee\n', truncated: false },
      'reports/budget.xlsx': { text: false, truncated: false },
    },
    activity: [
      { at: hour(9), path: 'notes/plan.md', direction: 'up', outcome: 'ok' },
      { at: hour(10), path: 'papers/attention.pdf', direction: 'down', outcome: 'ok' },
      { at: hour(10), path: 'old/draft.md', direction: 'remote-delete', outcome: 'ok' },
      { at: hour(11), path: 'data/huge.bin', direction: 'up', outcome: 'failed', detail: 'File is over the 10 MB limit (413)' },
      { at: hour(11), path: 'todo.txt', direction: 'conflict', outcome: 'ok', detail: 'Kept both versions' },
    ],
    status: {
      phase: 'idle',
      pending: 0,
      conflicts: [],
      issues: [
        {
          code: 'too_large',
          message: 'data/huge.bin is 24 MB; the hub accepts up to 10 MB',
          path: 'data/huge.bin',
        },
      ],
      lastSyncAt: hour(11),
      userId: 'ada',
    },
  };
}

export function configuredSettings(): Scenario['settings'] {
  return {
    serverUrl: 'https://hub.example.org',
    hasApiKey: true,
    localFolder: '/home/ada/YouLab',
    intervalSeconds: 30,
    debounceMs: 300,
    ignore: ['*.log', 'build/'],
    startAtLogin: true,
    openWebuiUrl: 'https://openwebui.example.org',
    firstRun: false,
  };
}

interface Fixtures {
  openPage: (name: PageName, scenario?: Scenario, query?: Record<string, string>) => Promise<Page>;
}

export const test = base.extend<Fixtures>({
  openPage: async ({ page }, use) => {
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    const bridge = readFileSync(fakeBridgeJs, 'utf8');
    await page.exposeFunction('__youlabValidate', (channel: string, request: unknown) => {
      if (!isInvokeChannel(channel)) return { ok: false, message: `unknown channel ${channel}` };
      const r = invokeContract[channel].request.safeParse(request);
      return r.success ? { ok: true, data: r.data } : { ok: false, message: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
    });
    await use(async (name, scenario = defaultScenario(), query) => {
      await page.addInitScript({ content: `${bridge}\n;globalThis.__installFakeBridge(${JSON.stringify(scenario)});` });
      const url = pathToFileURL(join(rendererDir, `${name}.html`));
      if (query) for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
      await page.goto(url.href);
      await expect(page.locator('body[data-ready="true"]')).toBeAttached();
      return page;
    });
    expect(errors, 'console errors (CSP violations, exceptions)').toEqual([]);
  },
});

export { expect };

export function fake(page: Page): Promise<Pick<FakeRecord, 'calls' | 'saved' | 'resolved'>> {
  return page.evaluate(() => {
    const f = (window as unknown as { __fake: FakeRecord }).__fake;
    return { calls: f.calls, saved: f.saved, resolved: f.resolved };
  });
}

export async function emit(page: Page, channel: string, payload: unknown): Promise<void> {
  await page.evaluate(([c, p]) => (window as unknown as { __fake: { emit(c: string, p: unknown): void } }).__fake.emit(c as string, p), [channel, payload] as const);
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}
