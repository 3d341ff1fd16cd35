// electron-log for the main process and (through the log:write channel) the renderers: one
// rotated file (maxSize, then main.old.log), found by "Open log".
import log from 'electron-log/main.js';

export const LOG_MAX_BYTES = 5 * 1024 * 1024;

export function setupLogging(): { file: string; log: typeof log } {
  log.transports.file.maxSize = LOG_MAX_BYTES;
  log.transports.file.level = 'info';
  log.transports.console.level = process.env.YOULAB_DEBUG ? 'debug' : 'warn';
  log.errorHandler.startCatching({ showDialog: false });
  return { file: log.transports.file.getFile().path, log };
}
