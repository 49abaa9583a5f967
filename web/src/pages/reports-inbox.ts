// 报告收件箱 — the report inbox: the 日通报 / 周汇总 / 月分析 of the kinds the user subscribes to,
// newest first, unread ones marked. Opening one (its printable HTML, or its workbook) marks it
// read on the server for this user, and the 报告 badge in the navigation drops; "全部标为已读"
// marks them all. A unit's staff reach it as the second tab of their inbox.

import { analyticsApi, reportHtmlPath, reportXlsxPath } from '../analytics-api';
import type { ReportInboxItem, ReportInboxPage } from '../analytics-types';
import { ApiError } from '../api';
import { errorBlock, loadingBlock, pageHeader } from '../components';
import { button, h, mount, toast } from '../dom';
import { fmtLocal } from '../format';
import { lang, t, type Key } from '../i18n';
import type { PageCtx } from '../page';
import { countText, pageOf, pager, setHashQuery } from '../pager';
import { showReportsBadge } from '../report-badge';
import { downloadReport, openReport } from '../report-open';
import { can } from '../store';

const KIND_LABEL: Record<string, Key> = { daily: 'dash_sub_daily', weekly: 'dash_sub_weekly', monthly: 'dash_sub_monthly' };
const KIND_ICON: Record<string, string> = { daily: '日', weekly: '周', monthly: '月' };
const PAGE_SIZE = 20;

/**
 * The inbox's tabs for a user who has both (a unit manager): 催办消息 (#/inbox) and 报告
 * (#/reports); nothing for a user with one of them only.
 */
export function inboxTabs(active: 'reminders' | 'reports'): HTMLElement | null {
  if (!can('unit-desk') || !can('analytics')) return null;
  const tab = (key: 'reminders' | 'reports', href: string, label: string) =>
    h('a', { href, class: active === key ? 'active' : null, 'aria-current': active === key ? 'page' : null, 'data-testid': `inbox-tab-${key}` }, label);
  return h('nav', { class: 'tabs inbox-tabs', 'aria-label': t('nav_inbox') }, tab('reminders', '#/inbox', t('ri_tab_reminders')), tab('reports', '#/reports', t('ri_tab_reports')));
}

export async function reportsInboxPage({ root, alive, route }: PageCtx): Promise<void> {
  let page = pageOf(route.query);
  const status = h('p', { class: 'muted small ri-status', 'data-testid': 'ri-status', 'aria-live': 'polite' });
  const markAll = button(t('inbox_mark_read'), { class: 'btn small', 'data-testid': 'ri-mark-all', disabled: true });
  const body = h('div', null, loadingBlock());
  mount(root, pageHeader(t('ri_title'), t('ri_lead'), markAll), inboxTabs('reports'), status, body);

  let data: ReportInboxPage | null = null;
  const setUnread = (n: number) => {
    if (data) data.unread = n;
    showReportsBadge(n);
    markAll.disabled = n === 0;
    // nothing to mark in an empty inbox: no button
    markAll.hidden = !data?.total;
    status.textContent = n ? t('ri_unread_n', { n: countText(n) }) : data?.total ? t('ri_all_read') : '';
  };

  const load = async () => {
    try {
      data = await analyticsApi.inbox(page, PAGE_SIZE);
    } catch (e) {
      if (alive()) mount(body, errorBlock(e instanceof ApiError ? e.text(lang()) : String(e), () => void load()));
      return;
    }
    if (!alive()) return;
    setUnread(data.unread);
    draw(data);
  };

  const draw = (d: ReportInboxPage) => {
    if (!d.items.length) {
      const none = !d.subscribed.length;
      mount(
        body,
        h(
          'div',
          { class: 'card empty-state', 'data-testid': none ? 'ri-not-subscribed' : 'ri-empty' },
          h('p', null, t(none ? 'ri_not_subscribed' : 'ri_empty')),
          none && can('analytics') ? h('a', { class: 'btn', href: '#/dashboard' }, t('ri_go_subscribe')) : null,
        ),
      );
      return;
    }
    mount(
      body,
      h('ol', { class: 'inbox ri-list', 'data-testid': 'ri-list' }, d.items.map(row)),
      d.total > PAGE_SIZE
        ? pager(page, PAGE_SIZE, d.total, (p) => {
            page = p;
            setHashQuery({ page: p }, 'push');
            void load();
          })
        : null,
    );
  };

  const row = (it: ReportInboxItem): HTMLElement => {
    const html = it.html || reportHtmlPath(it.id);
    const xlsx = it.xlsx || reportXlsxPath(it.id);
    const title = lang() === 'zh' ? it.title_zh : it.title_en || it.title_zh;
    const dot = h('span', { class: 'dot-new', role: 'img', title: t('ri_unread'), 'aria-label': t('ri_unread'), 'data-testid': 'ri-unread' });
    const readNote = h('div', { class: 'small muted ri-read' }, it.read_at ? t('ri_read_at', { at: fmtLocal(it.read_at) }) : '');
    const li = h(
      'li',
      { class: `inbox-item ri-item ${it.unread ? 'unread' : 'read'}`, 'data-report': it.id, 'data-kind': it.kind, 'data-unread': String(it.unread) },
      h(
        'div',
        { class: 'inbox-link ri-row' },
        h('span', { class: 'inbox-icon', 'aria-hidden': 'true' }, KIND_ICON[it.kind] ?? '报'),
        h(
          'div',
          { class: 'inbox-main' },
          h(
            'div',
            { class: 'inbox-top' },
            h('span', { class: 'badge info' }, t(KIND_LABEL[it.kind] ?? 'dash_sub_daily')),
            h('span', { class: 'small muted' }, it.period),
            it.unread ? dot : null,
          ),
          h(
            'a',
            {
              href: html,
              class: 'inbox-title ri-open',
              'data-testid': 'ri-open',
              onclick: (ev: MouseEvent) => void open(ev),
            },
            title,
          ),
          readNote,
        ),
        h(
          'div',
          { class: 'inbox-meta small muted' },
          h('time', { datetime: it.generated_at }, t('dash_report_generated', { at: fmtLocal(it.generated_at) })),
          h('div', null, h('a', { href: xlsx, 'data-testid': 'ri-xlsx', onclick: (ev: MouseEvent) => void download(ev) }, t('dash_report_xlsx'))),
        ),
      ),
    );
    // opening it (the server marks it read as it serves it): the row and the badge follow
    const markedRead = async () => {
      if (!it.unread) return;
      it.unread = false;
      it.read_at = new Date().toISOString();
      li.classList.replace('unread', 'read');
      li.dataset.unread = 'false';
      li.querySelectorAll('.dot-new').forEach((x) => x.remove());
      readNote.textContent = t('ri_read_at', { at: fmtLocal(it.read_at) });
      try {
        setUnread((await analyticsApi.inboxUnread()).unread);
      } catch {
        setUnread(Math.max(0, (data?.unread ?? 1) - 1));
      }
    };
    const open = async (ev: MouseEvent) => {
      if (await openReport(ev, html)) await markedRead();
    };
    const download = async (ev: MouseEvent) => {
      if (await downloadReport(ev, xlsx, `${it.kind}-${it.period}.xlsx`)) await markedRead();
    };
    return li;
  };

  markAll.addEventListener('click', async () => {
    markAll.disabled = true;
    try {
      const r = await analyticsApi.markAllRead();
      toast(t('ri_marked', { n: countText(r.marked) }), 'ok');
      if (alive()) await load();
    } catch (e) {
      toast(e instanceof ApiError ? e.text(lang()) : String(e), 'error');
      markAll.disabled = false;
    }
  });

  await load();
}
