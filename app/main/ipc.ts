// Binds the IPC router to ipcMain: one handler per contract channel, nothing else registered.
import type { IpcMain } from 'electron';
import { INVOKE_CHANNELS } from '../ipc/contract.ts';
import type { IpcRouter } from './ipc-router.ts';

export function bindIpc(ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>, router: IpcRouter): () => void {
  for (const channel of INVOKE_CHANNELS) {
    ipcMain.handle(channel, (event, request: unknown) =>
      router.dispatch(channel, { url: event.senderFrame?.url, webContentsId: event.sender.id }, request),
    );
  }
  return () => INVOKE_CHANNELS.forEach((c) => ipcMain.removeHandler(c));
}
