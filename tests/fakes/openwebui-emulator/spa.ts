// The web app's page that a real Open WebUI serves, with 200, for any GET path it has no route
// for (`/api/...` included: its SPA fallback). Recorded from real releases (fixtures/).
import { readFileSync } from 'node:fs';
import type { Response } from 'express';

const PAGE = readFileSync(new URL('./fixtures/spa-page.html', import.meta.url), 'utf8');

export function sendSpaPage(res: Response): void {
  res.status(200).type('text/html; charset=utf-8').send(PAGE);
}
