// The supervision board (督办): overdue assignments by unit and by district with ageing columns,
// sortable; each unit links to the ticket list filtered by that unit and overdue=true.

import { api, ApiError, type AccuracyRow, type Ageing, type ClockView, type DispatchAccuracy, type EscalationBoard, type OverdueBoard, type OverdueDistrict, type OverdueUnit, type ReviewItem, type ReviewQueue } from '../api';
import { errorBlock, loadingBlock, pageHeader } from '../components';
import { button, field, h, input, mount, toast, type Child } from '../dom';
import { fmtDuration, fmtTime, remaining, useServerTime } from '../format';
import { lang, t, tMaybe, type Key } from '../i18n';
import type { PageCtx } from '../page';
import { href, navigate } from '../router';
import { can, enumLabel, loadEnums, rememberUnit, session } from '../store';

const BUCKETS = ['lt_1d', 'd1_3', 'd3_7', 'gt_7d'] as const;

interface Col<T> {
  key: string;
  label: Key;
  num?: boolean;
  value: (r: T) => number | string;
  cell?: (r: T) => Child;
}

/** Whole hours overdue as text ("< 1 h" for the first hour). */
function hoursText(hours: number): string {
  return hours < 1 ? t('sup_lt_1h') : fmtDuration(hours * 3600_000);
}

/** An ageing bar: the share of each bucket, left (fresh) to right (old). */
function ageingBar(r: Ageing): HTMLElement {
  const total = r.overdue || 1;
  return h(
    'div',
    { class: 'age-bar', role: 'img', 'aria-label': BUCKETS.map((b) => `${t(`sup_col_${b}`)} ${r[b]}`).join('，') },
    BUCKETS.map((b) => (r[b] ? h('span', { class: `age-seg ${b}`, style: `width:${(100 * r[b]) / total}%`, title: `${t(`sup_col_${b}`)}: ${r[b]}` }) : null)),
  );
}

/** One figure of a stats row. */
function statCard(label: string, value: Child, tone = ''): HTMLElement {
  return h('div', { class: `stat ${tone}` }, h('span', { class: 'stat-n' }, value), h('span', { class: 'stat-l' }, label));
}

function bucketCell(n: number, b: string): Child {
  return n ? h('span', { class: `age-n ${b}` }, n) : h('span', { class: 'muted' }, '0');
}

/** A table sorted by a column (click a header; again reverses). The sort is kept in the URL. */
function sortableTable<T>(opts: {
  rows: T[];
  cols: Col<T>[];
  sort: string;
  desc: boolean;
  onSort: (key: string, desc: boolean) => void;
  rowAttrs: (r: T) => Record<string, string>;
  testid: string;
}): HTMLElement {
  const col = opts.cols.find((c) => c.key === opts.sort) ?? opts.cols[0];
  const rows = [...opts.rows].sort((a, b) => {
    const va = col.value(a);
    const vb = col.value(b);
    const c = typeof va === 'number' && typeof vb === 'number' ? va - vb : String(va).localeCompare(String(vb), 'zh-CN');
    return opts.desc ? -c : c;
  });
  return h(
    'table',
    { class: 'table board-table', 'data-testid': opts.testid },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        opts.cols.map((c) => {
          const active = c.key === col.key;
          return h(
            'th',
            { scope: 'col', class: c.num ? 'num' : null, 'aria-sort': active ? (opts.desc ? 'descending' : 'ascending') : 'none' },
            h(
              'button',
              {
                type: 'button',
                class: `sort-btn ${active ? 'active' : ''}`,
                'data-sort': c.key,
                title: t('sup_sort_by', { col: t(c.label) }),
                onclick: () => opts.onSort(c.key, active ? !opts.desc : c.num !== false),
              },
              t(c.label),
              h('span', { class: 'sort-mark', 'aria-hidden': 'true' }, active ? (opts.desc ? '▼' : '▲') : '↕'),
            ),
          );
        }),
      ),
    ),
    h(
      'tbody',
      null,
      rows.map((r) =>
        h(
          'tr',
          opts.rowAttrs(r),
          opts.cols.map((c) => h('td', { class: c.num ? 'num' : null, 'data-label': t(c.label) }, c.cell ? c.cell(r) : String(c.value(r)))),
        ),
      ),
    ),
  );
}

const SUP_TABS = ['board', 'reviews', 'escalations', 'accuracy'] as const;
type SupTab = (typeof SUP_TABS)[number];
/** The capability each tab needs (from `/me`; the server checks again). */
const TAB_CAPABILITY: Record<SupTab, string> = {
  board: 'supervision-view',
  reviews: 'review-queue',
  escalations: 'supervision-view',
  accuracy: 'dispatch-accuracy',
};

function errText(e: unknown): string {
  return e instanceof ApiError ? e.text(lang()) : String(e);
}

export async function supervisionPage(ctx: PageCtx): Promise<void> {
  const { root, route, alive, onCleanup } = ctx;
  const q = route.query;
  const tabs = SUP_TABS.filter((k) => can(TAB_CAPABILITY[k]));
  const tab: SupTab = tabs.includes(q.get('tab') as SupTab) ? (q.get('tab') as SupTab) : 'board';
  const refresh = button(t('sup_refresh'), { class: 'btn', onclick: () => void load() });
  const asOf = h('span', { class: 'muted small' });
  const body = h('div', null, loadingBlock());
  const nav = h(
    'nav',
    { class: 'tabs', 'aria-label': t('sup_tabs') },
    tabs.map((k) => h('a', { href: href('/supervision', { tab: k === 'board' ? undefined : k }), class: k === tab ? 'active' : null, 'aria-current': k === tab ? 'page' : null, 'data-tab': k }, t(`sup_tab_${k}` as Key))),
    // 办理质量审计: its own page (#/audit), reached from here
    can('reply-audit') ? h('a', { href: '#/audit', 'data-testid': 'sup-audit-link' }, t('au_title')) : null,
  );
  mount(root, pageHeader(t(tab === 'board' ? 'sup_title' : (`sup_tab_${tab}` as Key)), t(`sup_lead_${tab}` as Key), asOf, refresh), nav, body);
  await loadEnums().catch(() => null);
  if (tab !== 'board') {
    const other = async () => {
      refresh.disabled = true;
      try {
        if (tab === 'reviews') renderReviews(body, await api.reviewQueue(), asOf);
        else if (tab === 'escalations') renderEscalations(body, await api.escalations(), asOf);
        else renderAccuracy(body, await api.dispatchAccuracy());
      } catch (e) {
        if (alive()) mount(body, errorBlock(errText(e), () => void other()));
      } finally {
        refresh.disabled = false;
      }
    };
    refresh.onclick = () => void other();
    await other();
    return;
  }

  const setQuery = (patch: Record<string, string | undefined>) => {
    const next: Record<string, string | undefined> = { tab: q.get('tab') ?? undefined, us: q.get('us') ?? undefined, ud: q.get('ud') ?? undefined, ds: q.get('ds') ?? undefined, dd: q.get('dd') ?? undefined, q: q.get('q') ?? undefined, ...patch };
    navigate(href('/supervision', next).slice(1), true);
  };

  const canUrge = can('remind-bulk');
  const picked = new Set<string>();
  const unitCols: Col<OverdueUnit>[] = [
    ...(canUrge
      ? [
          {
            key: 'pick',
            label: 'sup_col_pick' as Key,
            num: false,
            value: (r: OverdueUnit) => (picked.has(r.unit_code) ? 0 : 1),
            cell: (r: OverdueUnit) =>
              h('input', {
                type: 'checkbox',
                'data-pick': r.unit_code,
                checked: picked.has(r.unit_code),
                'aria-label': t('sup_pick_unit', { unit: r.unit_name ?? r.unit_code }),
                onchange: (ev: Event) => {
                  if ((ev.target as HTMLInputElement).checked) picked.add(r.unit_code);
                  else picked.delete(r.unit_code);
                  updateBulk();
                },
              }),
          },
        ]
      : []),
    {
      key: 'unit',
      label: 'sup_col_unit',
      num: false,
      value: (r) => r.unit_name ?? r.unit_code,
      cell: (r) =>
        h(
          'a',
          { href: href('/tickets', { unit: r.unit_code, overdue: true, sort: 'deadline' }), class: 'unit-link', 'data-unit-link': r.unit_code, title: t('sup_open_list') },
          r.unit_name ?? r.unit_code,
          h('span', { class: 'muted small mono' }, ` ${r.unit_code}`),
        ),
    },
    { key: 'kind', label: 'sup_col_kind', num: false, value: (r) => enumLabel('unit_kinds', r.kind ?? ''), cell: (r) => h('span', { class: 'small' }, enumLabel('unit_kinds', r.kind ?? '')) },
    { key: 'overdue', label: 'sup_col_overdue', num: true, value: (r) => r.overdue, cell: (r) => h('strong', { class: 'overdue-n' }, r.overdue) },
    ...BUCKETS.map((b) => ({ key: b, label: `sup_col_${b}` as Key, num: true, value: (r: OverdueUnit) => r[b], cell: (r: OverdueUnit) => bucketCell(r[b], b) })),
    { key: 'oldest', label: 'sup_col_oldest', num: true, value: (r) => r.oldest_hours, cell: (r) => h('span', { class: 'nowrap' }, hoursText(r.oldest_hours)) },
    { key: 'share', label: 'sup_col_share', num: true, value: (r) => (r.gt_7d * 1e6 + r.d3_7 * 1e4 + r.d1_3 * 1e2 + r.lt_1d) / (r.overdue || 1), cell: (r) => ageingBar(r) },
  ];
  const districtCols: Col<OverdueDistrict>[] = [
    {
      key: 'district',
      label: 'sup_col_district',
      num: false,
      value: (r) => r.district_name ?? r.district_code,
      cell: (r) => h('a', { href: href('/tickets', { district: r.district_code, overdue: true, sort: 'deadline' }), 'data-district-link': r.district_code }, r.district_name ?? r.district_code),
    },
    { key: 'overdue', label: 'sup_col_overdue', num: true, value: (r) => r.overdue, cell: (r) => h('strong', { class: 'overdue-n' }, r.overdue) },
    ...BUCKETS.map((b) => ({ key: b, label: `sup_col_${b}` as Key, num: true, value: (r: OverdueDistrict) => r[b], cell: (r: OverdueDistrict) => bucketCell(r[b], b) })),
    { key: 'share', label: 'sup_col_share', num: true, value: (r) => (r.gt_7d * 1e6 + r.d3_7 * 1e4 + r.d1_3 * 1e2 + r.lt_1d) / (r.overdue || 1), cell: (r) => ageingBar(r) },
  ];

  // 批量催办: urge every overdue lead assignment of the ticked units at once.
  const bulkBox = h('div');
  const bulkNote = input('note', { value: t('sup_urge_default'), maxlength: 500, 'data-testid': 'urge-note' });
  const bulkCount = h('span', { class: 'muted small', 'aria-live': 'polite' });
  const bulkBtn = button(t('sup_urge'), {
    class: 'btn primary small',
    'data-testid': 'urge-selected',
    onclick: async () => {
      if (!picked.size) return;
      bulkBtn.disabled = true;
      try {
        const r = await api.remindBulk({ units: [...picked], note: bulkNote.value.trim() });
        toast(t('sup_urged', { n: r.urged }));
        mount(bulkResult, h('div', { class: 'alert ok', role: 'status', 'data-testid': 'urge-result' }, t('sup_urged', { n: r.urged }), r.skipped ? ` ${t('sup_urge_skipped', { n: r.skipped })}` : ''));
        picked.clear();
        await load();
      } catch (e) {
        mount(bulkResult, h('div', { class: 'alert error', role: 'alert' }, errText(e)));
      } finally {
        updateBulk();
      }
    },
  });
  const bulkResult = h('div', { 'aria-live': 'polite' });
  const bulkBar = h('div', { class: 'bulk-bar', 'data-testid': 'bulk-bar' }, bulkCount, field(t('sup_urge_note'), bulkNote, { name: 'note' }), bulkBtn, bulkResult);
  const updateBulk = () => {
    bulkCount.textContent = t('sup_picked', { n: picked.size });
    bulkBtn.disabled = picked.size === 0;
  };

  const render = (b: OverdueBoard) => {
    for (const u of b.units) rememberUnit(u.unit_code, u.unit_name);
    for (const d of b.districts) rememberUnit(d.district_code, d.district_name);
    mount(asOf, t('sup_as_of', { at: fmtTime(b.at) }));
    const oldest = b.units.reduce((m, u) => Math.max(m, u.oldest_hours), 0);
    const stats = h(
      'div',
      { class: 'stats', 'data-testid': 'board-stats' },
      statCard(t('sup_total'), b.total, b.total ? 'overdue' : ''),
      statCard(t('sup_units'), b.units.length, 'info'),
      statCard(t('sup_districts'), b.districts.length, ''),
      statCard(t('sup_oldest'), b.total ? hoursText(oldest) : '—', oldest >= 168 ? 'overdue' : oldest ? 'soon' : ''),
    );
    if (!b.total) {
      mount(body, stats, h('div', { class: 'card empty-state', 'data-testid': 'board-empty' }, '✓ ', t('sup_empty')));
      return;
    }
    const filter = input('q', { type: 'search', placeholder: t('sup_filter_unit'), value: q.get('q') ?? '', 'aria-label': t('sup_filter_unit') });
    const unitBox = h('div');
    const drawUnits = () => {
      const f = filter.value.trim().toLowerCase();
      const rows = f ? b.units.filter((u) => `${u.unit_name ?? ''} ${u.unit_code}`.toLowerCase().includes(f)) : b.units;
      mount(
        unitBox,
        sortableTable({
          rows,
          cols: unitCols,
          sort: q.get('us') ?? 'overdue',
          desc: (q.get('ud') ?? 'desc') === 'desc',
          onSort: (key, desc) => setQuery({ us: key, ud: desc ? 'desc' : 'asc', q: filter.value.trim() || undefined }),
          rowAttrs: (r) => ({ 'data-unit': r.unit_code }),
          testid: 'board-units',
        }),
      );
    };
    filter.addEventListener('input', drawUnits);
    drawUnits();
    mount(bulkBox, canUrge ? bulkBar : null);
    updateBulk();
    const legend = h(
      'div',
      { class: 'age-legend small muted' },
      BUCKETS.map((bk) => h('span', null, h('span', { class: `age-swatch ${bk}`, 'aria-hidden': 'true' }), t(`sup_col_${bk}`))),
    );
    mount(
      body,
      stats,
      h(
        'section',
        { class: 'card flush board-card' },
        h('div', { class: 'board-head' }, h('h2', null, t('sup_by_unit'), ' ', h('span', { class: 'badge muted' }, b.units.length)), filter, legend),
        bulkBox,
        h('div', { class: 'table-scroll' }, unitBox),
      ),
      h(
        'section',
        { class: 'card flush board-card' },
        h('div', { class: 'board-head' }, h('h2', null, t('sup_by_district'), ' ', h('span', { class: 'badge muted' }, b.districts.length))),
        h(
          'div',
          { class: 'table-scroll' },
          sortableTable({
            rows: b.districts,
            cols: districtCols,
            sort: q.get('ds') ?? 'overdue',
            desc: (q.get('dd') ?? 'desc') === 'desc',
            onSort: (key, desc) => setQuery({ ds: key, dd: desc ? 'desc' : 'asc' }),
            rowAttrs: (r) => ({ 'data-district': r.district_code }),
            testid: 'board-districts',
          }),
        ),
      ),
      session.user?.unit_code ? h('p', { class: 'muted small' }, t('sup_note_scope')) : null,
    );
  };

  const load = async () => {
    refresh.disabled = true;
    try {
      const b = await api.overdue();
      if (alive()) render(b);
    } catch (e) {
      if (alive()) mount(body, errorBlock(e instanceof ApiError ? e.text(lang()) : String(e), () => void load()));
    } finally {
      refresh.disabled = false;
    }
  };
  await load();
  const timer = setInterval(() => void load(), 120_000);
  onCleanup(() => clearInterval(timer));
}

// ---- the other tabs -----------------------------------------------------------------------------

function clockBadge(c: ClockView): HTMLElement {
  const tone = c.state === 'overdue' ? 'overdue' : c.state === 'due_soon' ? 'warn' : 'muted';
  return h('span', { class: `badge ${tone}`, 'data-state': c.state }, tMaybe(`clk_${c.state}`) ?? c.state_label ?? c.state);
}

function ticketLink(id: number, number: string): HTMLElement {
  return h('a', { href: `#/tickets/${id}`, class: 'mono', 'data-ticket': id }, number);
}

/** 审核队列: pending returns and extensions with the centre's review deadline, most urgent first. */
function renderReviews(body: HTMLElement, q: ReviewQueue, asOf: HTMLElement): void {
  mount(asOf, t('sup_as_of', { at: fmtTime(q.at) }));
  useServerTime(q.at);
  const stats = h('div', { class: 'stats', 'data-testid': 'review-stats' }, statCard(t('sup_rv_total'), q.total, q.total ? 'info' : ''), statCard(t('sup_rv_overdue'), q.overdue, q.overdue ? 'overdue' : ''));
  if (!q.items.length) {
    mount(body, stats, h('div', { class: 'card empty-state', 'data-testid': 'reviews-empty' }, '✓ ', t('sup_rv_empty')));
    return;
  }
  mount(
    body,
    stats,
    h(
      'section',
      { class: 'card flush' },
      h(
        'table',
        { class: 'table', 'data-testid': 'review-queue' },
        h('thead', null, h('tr', null, [t('sup_rv_col_ticket'), t('sup_rv_col_kind'), t('sup_col_unit'), t('sup_rv_col_reason'), t('sup_rv_col_requested'), t('sup_rv_col_due'), t('rv_note')].map((c) => h('th', { scope: 'col' }, c)))),
        h(
          'tbody',
          null,
          q.items.map((it) =>
            h(
              'tr',
              { 'data-review': `${it.ticket_id}-${it.kind}`, class: it.review.state === 'overdue' ? 'row-overdue' : null },
              h('td', { 'data-label': t('sup_rv_col_ticket') }, ticketLink(it.ticket_id, it.number), h('div', { class: 'small' }, it.title), h('div', { class: 'muted small' }, [it.district_name, it.category_path].filter(Boolean).join(' · '))),
              h('td', { 'data-label': t('sup_rv_col_kind') }, h('span', { class: 'tag' }, t(it.kind === 'return' ? 'sup_rv_return' : 'sup_rv_extension'))),
              h('td', { 'data-label': t('sup_col_unit') }, it.unit_name ?? it.unit_code, ' ', h('span', { class: 'muted small' }, enumLabel('roles_in_assignment', it.role))),
              h(
                'td',
                { 'data-label': t('sup_rv_col_reason'), class: 'small' },
                it.kind === 'return'
                  ? [enumLabel('return_reasons', it.detail.reason ?? '') || it.detail.reason_label || '', it.detail.text ? h('div', { class: 'muted' }, it.detail.text) : null]
                  : [t('sup_rv_until', { at: fmtTime(it.detail.until ?? '') }), it.detail.text ? h('div', { class: 'muted' }, it.detail.text) : null, h('div', { class: 'muted' }, (it.detail as { reason?: string }).reason ?? '')],
              ),
              h('td', { 'data-label': t('sup_rv_col_requested'), class: 'small nowrap' }, fmtTime(it.requested_at)),
              h('td', { 'data-label': t('sup_rv_col_due'), class: 'small nowrap' }, fmtTime(it.review.due), ' ', clockBadge(it.review), h('div', { class: 'muted', 'data-testid': 'review-left' }, remaining(it.review.due))),
              h('td', { 'data-label': t('rv_note') }, reviewDecision(it)),
            ),
          ),
        ),
      ),
    ),
    h('p', { class: 'muted small' }, t('sup_rv_hint')),
  );
}

/** The decision of one pending return or extension, taken in the queue (the same ticket action as
 * on the ticket page; the server decides and its refusal shows in the row). */
function reviewDecision(it: ReviewItem): HTMLElement {
  const note = input('note', { maxlength: 500, placeholder: t('rv_note'), 'aria-label': t('rv_note') });
  const msg = h('div', { class: 'small', role: 'status' });
  const box = h('div', { class: 'rv-decide', 'data-testid': 'review-decide' });
  const decide = async (approve: boolean) => {
    mount(msg);
    try {
      await api.action(it.ticket_id, it.kind === 'return' ? 'review-return' : 'review-extension', { unit_code: it.unit_code, approve, note: note.value.trim() || undefined });
      mount(box, h('span', { class: 'tag ok', 'data-testid': 'review-done', 'data-approved': String(approve) }, t('rv_done_ok', { number: it.number }), ' · ', approve ? t('rv_approve') : t('rv_reject')));
    } catch (e) {
      mount(msg, h('span', { class: 'error' }, e instanceof ApiError ? e.text(lang()) : String(e)));
    }
  };
  mount(
    box,
    note,
    h('div', { class: 'row gap-s' }, button(t('rv_approve'), { class: 'btn small primary', 'data-testid': 'review-approve', onclick: () => void decide(true) }), button(t('rv_reject'), { class: 'btn small', 'data-testid': 'review-reject', onclick: () => void decide(false) })),
    msg,
  );
  return box;
}

/** 提级跟踪: escalated tickets, whether the matter is still open, and the lead unit's clock. */
function renderEscalations(body: HTMLElement, b: EscalationBoard, asOf: HTMLElement): void {
  mount(asOf, t('sup_as_of', { at: fmtTime(b.at) }));
  const stats = h('div', { class: 'stats', 'data-testid': 'escalation-stats' }, statCard(t('sup_es_total'), b.total, 'info'), statCard(t('sup_es_open'), b.open, b.open ? 'soon' : ''), statCard(t('sup_es_done'), b.total - b.open, 'ok'));
  if (!b.items.length) {
    mount(body, stats, h('div', { class: 'card empty-state', 'data-testid': 'escalations-empty' }, t('sup_es_empty')));
    return;
  }
  mount(
    body,
    stats,
    h(
      'section',
      { class: 'card flush' },
      h(
        'table',
        { class: 'table', 'data-testid': 'escalation-board' },
        h('thead', null, h('tr', null, [t('sup_rv_col_ticket'), t('sup_es_col_level'), t('sup_es_col_since'), t('sup_es_col_lead'), t('sup_es_col_state')].map((c) => h('th', { scope: 'col' }, c)))),
        h(
          'tbody',
          null,
          b.items.map((it) => {
            const last = it.escalations[it.escalations.length - 1];
            return h(
              'tr',
              { 'data-escalated': it.ticket_id, 'data-open': String(it.open) },
              h('td', { 'data-label': t('sup_rv_col_ticket') }, ticketLink(it.ticket_id, it.number), h('div', { class: 'small' }, it.title), h('div', { class: 'muted small' }, it.district_name ?? '')),
              h(
                'td',
                { 'data-label': t('sup_es_col_level'), class: 'small' },
                it.escalations.map((e) =>
                  h('div', null, h('span', { class: 'tag' }, enumLabel('escalation_levels', e.level) || e.level_label || e.level), e.to_unit_name ? ` → ${e.to_unit_name}` : '', h('div', { class: 'muted' }, `${fmtTime(e.at)} · ${e.reason}`)),
                ),
              ),
              h('td', { 'data-label': t('sup_es_col_since'), class: 'nowrap' }, last && it.hours_since != null ? hoursText(it.hours_since) : '—'),
              h(
                'td',
                { 'data-label': t('sup_es_col_lead'), class: 'small' },
                it.lead ? [it.lead.unit_name ?? it.lead.unit_code, ' ', h('span', { class: 'muted' }, enumLabel('assignment_states', it.lead.state) || it.lead.state_label || ''), it.lead.finish.state ? h('div', null, t('sup_es_finish', { at: fmtTime(it.lead.finish.due) }), ' ', clockBadge(it.lead.finish)) : null] : '—',
              ),
              h('td', { 'data-label': t('sup_es_col_state') }, h('span', { class: `badge ${it.open ? 'warn' : 'ok'}` }, it.open ? t('sup_es_open_one') : t('sup_es_done_one')), h('div', { class: 'muted small' }, enumLabel('statuses', it.status) || it.status_label || '')),
            );
          }),
        ),
      ),
    ),
  );
}

function pctText(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/** 派单准确率: the share of dispatches not returned-and-approved, overall and by five groupings. */
function renderAccuracy(body: HTMLElement, a: DispatchAccuracy): void {
  const table = (title: Key, rows: AccuracyRow[], label: (r: AccuracyRow) => Child, testid: string) =>
    h(
      'section',
      { class: 'card flush acc-card' },
      h('div', { class: 'board-head' }, h('h2', null, t(title))),
      rows.length
        ? h(
            'div',
            { class: 'table-scroll' },
            h(
              'table',
              { class: 'table', 'data-testid': testid },
              h('thead', null, h('tr', null, h('th', { scope: 'col' }, t(title)), h('th', { scope: 'col', class: 'num' }, t('sup_acc_dispatches')), h('th', { scope: 'col', class: 'num' }, t('sup_acc_returned')), h('th', { scope: 'col', class: 'num' }, t('sup_acc_rate')))),
              h(
                'tbody',
                null,
                rows.slice(0, 50).map((r) =>
                  h(
                    'tr',
                    { 'data-key': r.key },
                    h('td', null, label(r)),
                    h('td', { class: 'num' }, r.dispatches),
                    h('td', { class: 'num' }, r.returned),
                    h('td', { class: 'num' }, h('span', { class: r.accuracy < 0.9 ? 'bad' : r.accuracy >= 0.97 ? 'good' : null }, pctText(r.accuracy))),
                  ),
                ),
              ),
            ),
          )
        : h('div', { class: 'empty-state' }, t('sup_acc_none')),
    );
  mount(
    body,
    h('div', { class: 'stats', 'data-testid': 'accuracy-stats' }, statCard(t('sup_acc_overall'), pctText(a.overall), a.overall >= 0.95 ? 'ok' : 'soon'), statCard(t('sup_acc_dispatches'), a.dispatches, 'info'), statCard(t('sup_acc_returned'), a.returned, a.returned ? 'soon' : '')),
    h('p', { class: 'muted small' }, t('sup_acc_hint')),
    h(
      'div',
      { class: 'acc-grid' },
      table('sup_acc_by_dispatcher', a.by_dispatcher, (r) => r.key || '—', 'acc-dispatcher'),
      table('sup_acc_by_rule', a.by_rule, (r) => (r.key === 'manual' ? t('sup_acc_manual') : h('code', null, r.key)), 'acc-rule'),
      table('sup_acc_by_category', a.by_category, (r) => r.name ?? r.key, 'acc-category'),
      table('sup_acc_by_unit_kind', a.by_unit_kind, (r) => enumLabel('unit_kinds', r.key) || r.key, 'acc-unit-kind'),
      table('sup_acc_by_unit', a.by_unit, (r) => r.name ?? r.key, 'acc-unit'),
    ),
  );
}
