// The page's handle on the preload bridge. Pages run sandboxed with no Node; `window.youlab`
// is all they get (in tests, a fake with the same YoulabApi type).
import { BRIDGE_NAME } from '../../ipc/channels.ts';
import type { YoulabApi } from '../../ipc/contract.ts';

export function bridge(): YoulabApi {
  const api = (window as unknown as Record<string, YoulabApi | undefined>)[BRIDGE_NAME];
  if (!api) throw new Error('The app bridge is missing: this page must be opened by YouLab Sync');
  return api;
}

/** Sends a renderer error to the main log; never throws. */
export function logError(message: string): void {
  try {
    void bridge()
      .invoke('log:write', { level: 'error', message: message.slice(0, 8000) })
      .catch(() => {}); // logging a page error must never raise one
  } catch {
    // no bridge: nothing to log to
  }
}

window.addEventListener('error', (e) => logError(`${e.message} at ${e.filename}:${e.lineno}`));
window.addEventListener('unhandledrejection', (e) => logError(`unhandled rejection: ${String(e.reason)}`));
