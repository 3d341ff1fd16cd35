// The only bridge between a sandboxed page and the main process: `window.youlab`, with invoke
// limited to the contract's channels and event subscriptions that never expose the raw
// ipcRenderer event. Bundled to dist/preload/index.cjs (sandboxed preloads are CommonJS).
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { BRIDGE_NAME, EVENT_CHANNELS, INVOKE_CHANNELS, type EventChannel, type InvokeChannel } from '../ipc/channels.ts';
import type { YoulabApi } from '../ipc/contract.ts';

const invokeAllowed = new Set<string>(INVOKE_CHANNELS);
const eventAllowed = new Set<string>(EVENT_CHANNELS);

const api: YoulabApi = {
  invoke(channel: InvokeChannel, ...args: unknown[]) {
    if (!invokeAllowed.has(channel)) return Promise.reject(new Error(`Unknown channel: ${String(channel)}`));
    return ipcRenderer.invoke(channel, ...args.slice(0, 1));
  },
  on(channel: EventChannel, listener: (payload: unknown) => void) {
    if (!eventAllowed.has(channel)) throw new Error(`Unknown event: ${String(channel)}`);
    const wrapped = (_e: IpcRendererEvent, payload: unknown) => listener(payload);
    ipcRenderer.on(channel, wrapped);
    return () => {
      ipcRenderer.removeListener(channel, wrapped);
    };
  },
} as YoulabApi;

contextBridge.exposeInMainWorld(BRIDGE_NAME, api);
