// The unread count of the report inbox (报告收件箱) on the navigation's 报告 link: the server's
// count (GET /api/v1/inbox/reports/unread), redrawn when the inbox page reads a report.

import { analyticsApi } from './analytics-api';
import { h } from './dom';
import { t } from './i18n';

const LINK = 'nav a[href="#/reports"]';

/** Puts `n` on the 报告 link (no badge at 0). */
export function showReportsBadge(n: number): void {
  document.querySelectorAll(LINK).forEach((link) => {
    link.querySelector('[data-testid=reports-badge]')?.remove();
    if (n > 0) {
      link.appendChild(h('span', { class: 'nav-badge', 'data-testid': 'reports-badge', 'aria-hidden': 'true' }, n > 99 ? '99+' : String(n)));
      link.setAttribute('aria-label', t('ri_badge_label', { n }));
    } else {
      link.removeAttribute('aria-label');
    }
  });
}

/** Fetches the unread count and shows it; a failure leaves no badge (a convenience only). */
export async function refreshReportsBadge(): Promise<void> {
  try {
    showReportsBadge((await analyticsApi.inboxUnread()).unread);
  } catch {
    /* no badge when the count cannot be read */
  }
}
