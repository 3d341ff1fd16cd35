// A bandwidth cap for transfers (like Syncthing's rate limits): a pass-through stream that
// delays chunks so the average stays under `bytesPerSecond`.
import { Transform } from 'node:stream';

export function throttle(bytesPerSecond: number): Transform {
  const started = Date.now();
  let sent = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      sent += chunk.length;
      const due = started + (sent / bytesPerSecond) * 1000;
      const wait = Math.max(0, due - Date.now());
      setTimeout(() => cb(null, chunk), wait);
    },
  });
}
