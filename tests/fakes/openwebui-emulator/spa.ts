// What a real Open WebUI answers, with 200, for a GET path it has no route for (`/api/...`
// included): its web app's page (the SPA fallback). The emulator answers a minimal page of its
// own with the same status, type and title (the recorded shape, fixtures/); the real page is not
// copied.
import type { Response } from 'express';

const PAGE = '<!doctype html>\n<html lang="en"><head><meta charset="utf-8" /><title>Open WebUI</title></head><body><div id="app"></div></body></html>\n';

export function sendSpaPage(res: Response): void {
  res.status(200).type('text/html; charset=utf-8').send(PAGE);
}
