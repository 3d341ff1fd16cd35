// Main's side of the IPC contract, without Electron: every request is checked for its sender and
// validated against the contract's zod schema before a handler sees it. ipc.ts binds this router
// to ipcMain; tests call dispatch() directly.
import { fileURLToPath } from 'node:url';
import { isAbsolute, relative } from 'node:path';
import { invokeContract, isInvokeChannel } from '../ipc/contract.ts';
import type { InvokeChannel, RequestOf, ResponseOf } from '../ipc/contract.ts';

export interface SenderInfo {
  /** URL of the frame that sent the message (event.senderFrame.url). */
  url: string | undefined;
  /** webContents id of the sender. */
  webContentsId: number;
}

export type IpcHandlers = {
  [C in InvokeChannel]: (request: RequestOf<C>, sender: SenderInfo) => Promise<ResponseOf<C>> | ResponseOf<C>;
};

export type IpcRejectReason = 'unknown_channel' | 'untrusted_sender' | 'bad_request';

export class IpcRejectedError extends Error {
  constructor(
    readonly reason: IpcRejectReason,
    message: string,
  ) {
    super(message);
    this.name = 'IpcRejectedError';
  }
}

/**
 * True when the URL is one of our own pages: a file:// URL inside the renderer folder. Anything
 * else (a remote page, a data: URL, a file elsewhere on disk) never reaches a handler.
 */
export function isOwnPageUrl(url: string | undefined, rendererDir: string): boolean {
  if (!url) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // not a URL: not ours to open
    return false;
  }
  if (parsed.protocol !== 'file:' || (parsed.host !== '' && parsed.host !== 'localhost')) return false;
  let path: string;
  try {
    path = fileURLToPath(parsed);
  } catch {
    // not a file URL: not ours to open
    return false;
  }
  const rel = relative(rendererDir, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) && rel.endsWith('.html');
}

export interface IpcRouter {
  dispatch(channel: unknown, sender: SenderInfo, request: unknown): Promise<unknown>;
}

export function createIpcRouter(
  handlers: IpcHandlers,
  isTrusted: (sender: SenderInfo) => boolean,
  onReject: (reason: IpcRejectReason, channel: string, detail: string) => void = () => {},
): IpcRouter {
  return {
    async dispatch(channel, sender, request) {
      if (!isInvokeChannel(channel)) {
        const name = String(channel).slice(0, 100);
        onReject('unknown_channel', name, '');
        throw new IpcRejectedError('unknown_channel', `Unknown IPC channel: ${name}`);
      }
      if (!isTrusted(sender)) {
        onReject('untrusted_sender', channel, sender.url ?? '(no url)');
        throw new IpcRejectedError('untrusted_sender', `IPC ${channel} refused: sender is not one of this app's windows`);
      }
      const parsed = invokeContract[channel].request.safeParse(request);
      if (!parsed.success) {
        const detail = parsed.error.issues.map((i) => `${i.path.join('.') || '(request)'}: ${i.message}`).join('; ');
        onReject('bad_request', channel, detail);
        throw new IpcRejectedError('bad_request', `IPC ${channel} refused: ${detail}`);
      }
      const handler = handlers[channel] as (req: unknown, s: SenderInfo) => unknown;
      return await handler(parsed.data, sender);
    },
  };
}
