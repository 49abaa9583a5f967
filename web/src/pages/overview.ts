// The overview (概览) that supervisors, leaders and dispatchers land on (GET /api/v1/overview):
// today's intake, open tickets by status, overdue now, pending reviews and alerts. Every figure
// links to the list that makes it (#/tickets with filters, or the supervision tabs).

import { api, ApiError, type Overview } from '../api';
import { errorBlock, loadingBlock, pageHeader } from '../components';
import { h, mount } from '../dom';
import { lang, t, tMaybe } from '../i18n';
import type { PageCtx } from '../page';
import { loadUnits, unitName } from '../store';

const num = (n: number) => new Intl.NumberFormat(lang() === 'zh' ? 'zh-CN' : 'en').format(n);

function tile(label: string, n: number, href: string, tone: string, testid: string, sub?: string): HTMLElement {
  return h(
    'a',
    { class: `stat ov-tile ${tone}`, href, 'data-testid': testid },
    h('span', { class: 'stat-n' }, num(n)),
    h('span', { class: 'stat-l' }, label),
    sub ? h('span', { class: 'muted small' }, sub) : null,
  );
}

function render(o: Overview): HTMLElement {
  const statusLabel = (s: { status: string; label_zh: string }) => (lang() === 'zh' ? s.label_zh : tMaybe(`status_${s.status}`) ?? s.status);
  return h(
    'div',
    { class: 'overview', 'data-testid': 'overview' },
    h('p', { class: 'muted small' }, t('ov_date', { date: o.date }), o.scope ? ` · ${t('ov_scope', { unit: unitName(o.scope) })}` : ''),
    h(
      'div',
      { class: 'stats ov-stats' },
      tile(t('ov_today'), o.today.intake, o.today.href, 'info', 'ov-today'),
      tile(t('ov_open'), o.open.total, '#/tickets', '', 'ov-open'),
      tile(t('ov_overdue'), o.overdue.count, o.overdue.href, 'overdue', 'ov-overdue'),
      tile(t('ov_reviews'), o.reviews.total, o.reviews.href, 'soon', 'ov-reviews', t('ov_reviews_detail', { r: o.reviews.returns, e: o.reviews.extensions })),
    ),
    h(
      'div',
      { class: 'ov-grid' },
      h(
        'section',
        { class: 'card' },
        h('h2', null, t('ov_alerts')),
        o.alerts.length
          ? h(
              'ul',
              { class: 'plain ov-alerts', 'data-testid': 'ov-alerts' },
              o.alerts.map((a) => h('li', { 'data-code': a.code }, h('a', { href: a.href }, lang() === 'zh' ? a.zh : a.en))),
            )
          : h('p', { class: 'muted' }, t('ov_no_alerts')),
      ),
      h(
        'section',
        { class: 'card' },
        h('h2', null, t('ov_by_status')),
        h(
          'ul',
          { class: 'plain ov-status', 'data-testid': 'ov-by-status' },
          o.open.by_status.map((s) => h('li', { 'data-status': s.status }, h('a', { href: s.href }, statusLabel(s)), h('strong', null, num(s.count)))),
        ),
      ),
    ),
  );
}

export async function overviewPage({ root, alive }: PageCtx): Promise<void> {
  const body = h('div', null, loadingBlock());
  mount(root, pageHeader(t('ov_title'), t('ov_lead')), body);
  const load = async () => {
    try {
      const o = await api.overview();
      if (o.scope) await loadUnits({ parent: o.scope }).catch(() => undefined);
      if (alive()) mount(body, render(o));
    } catch (e) {
      if (alive()) mount(body, errorBlock(e instanceof ApiError ? e.text(lang()) : String(e), () => void load()));
    }
  };
  await load();
}
