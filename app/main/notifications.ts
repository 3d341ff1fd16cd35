// Native notifications for what needs the user; the decisions live in notify-policy.ts.
import { Notification } from 'electron';
import type { Notice } from './notify-policy.ts';

export function showNotice(notice: Notice, onClick: () => void, icon?: string): void {
  if (!Notification.isSupported()) return;
  const n = new Notification({ title: notice.title, body: notice.body, silent: false, ...(icon ? { icon } : {}) });
  n.on('click', onClick);
  n.show();
}
