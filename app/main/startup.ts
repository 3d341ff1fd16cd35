// Process-level decisions at launch, behind small interfaces so tests need no Electron:
// one instance only (a second launch focuses the first), and where the first window goes.
import type { PageName } from './controller.ts';

export interface SingleInstanceApp {
  requestSingleInstanceLock(): boolean;
  on(event: 'second-instance', listener: () => void): unknown;
  quit(): void;
}

/** Returns false (and quits) when another instance already runs; that instance gets `onSecondLaunch`. */
export function acquireSingleInstance(app: SingleInstanceApp, onSecondLaunch: () => void): boolean {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return false;
  }
  app.on('second-instance', onSecondLaunch);
  return true;
}

/** First run (no folder or no key) opens Settings; later runs start quietly in the tray. */
export function initialWindow(configured: boolean): PageName | null {
  return configured ? null : 'settings';
}

/** A second launch means the user is looking for the app: show Settings if set-up is unfinished, else recent activity. */
export function secondLaunchWindow(configured: boolean): PageName {
  return configured ? 'activity' : 'settings';
}
