// Structured logs on stderr (stdout carries only the "listening" line). Never log keys or
// Authorization headers: nothing here ever receives them.
import pino from 'pino';

export type Logger = pino.Logger;

/** A second line of defence: should a header bag or a key ever be logged, these are censored. */
const REDACT = {
  paths: ['authorization', '*.authorization', '*.headers.authorization', 'headers.authorization', 'key', 'apiKey', '*.apiKey', 'password', '*.password'],
  censor: '[redacted]',
};

export function createLogger(level: string = 'info'): Logger {
  return pino({ level, base: { name: 'youlab-hub' }, redact: REDACT }, pino.destination(2));
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
