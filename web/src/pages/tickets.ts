// The ticket list with filters. Filters live in the hash query, so a filtered list can be
// bookmarked, shared, and survives a reload.

import { api, ApiError, type TicketSummary } from '../api';
import { categoryPicker, errorBlock, loadingBlock, pageHeader, statusBadge } from '../components';
import { button, field, h, input, mount, select } from '../dom';
import { deadlineClock, fmtTime, pathText } from '../format';
import { lang, t } from '../i18n';
import type { PageCtx } from '../page';
import { pager } from '../pager';
import { href, navigate } from '../router';
import { can, categoryPathText, CHANNELS, enumOptions, loadCategories, loadDispatchUnits, loadUnits, rememberList, STATUSES, TYPES, unitName } from '../store';

export const ACTIVE_STATUSES = ['dispatched', 'in_progress', 'return_review'];

/** One table of ticket summaries (used by the list, the workbench and the callback desk). */
export function ticketTable(items: TicketSummary[], opts: { showDeadline?: boolean; selected?: number; onPick?: (t: TicketSummary) => void } = {}): HTMLElement {
  const showDeadline = opts.showDeadline ?? true;
  return h(
    'table',
    { class: 'table tickets-table', 'data-testid': 'ticket-table' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', { scope: 'col' }, t('col_number')),
        h('th', { scope: 'col' }, t('col_title')),
        h('th', { scope: 'col' }, t('col_category')),
        h('th', { scope: 'col' }, t('col_place')),
        h('th', { scope: 'col' }, t('col_status')),
        h('th', { scope: 'col' }, t('col_lead')),
        showDeadline ? h('th', { scope: 'col' }, t('col_deadline')) : null,
      ),
    ),
    h(
      'tbody',
      null,
      items.map((it) => {
        const link = h('a', { href: `#/tickets/${it.id}`, class: 'ticket-link' }, it.number);
        if (opts.onPick) {
          const pick = opts.onPick;
          link.addEventListener('click', (ev) => {
            ev.preventDefault();
            pick(it);
          });
        }
        const done = ['result_submitted', 'callback_done', 'closed', 'archived', 'answered', 'special_handled', 'merged'].includes(it.status);
        return h(
          'tr',
          { 'data-ticket': it.number, class: opts.selected === it.id ? 'selected' : null },
          h('td', { 'data-label': t('col_number') }, link, h('div', { class: 'muted small' }, fmtTime(it.created_at))),
          h('td', { 'data-label': t('col_title'), class: 'title-cell' }, it.title),
          h('td', { 'data-label': t('col_category'), class: 'small' }, summaryCategory(it)),
          h('td', { 'data-label': t('col_place'), class: 'small' }, summaryPlace(it)),
          h('td', { 'data-label': t('col_status') }, statusBadge(it.status, it.status_label)),
          h('td', { 'data-label': t('col_lead'), class: 'small' }, it.lead_unit ? it.lead_unit_name ?? unitName(it.lead_unit) : '—'),
          showDeadline
            ? h('td', { 'data-label': t('col_deadline') }, done ? h('span', { class: 'muted' }, it.finish_deadline ? fmtTime(it.finish_deadline) : '—') : deadlineClock(it.finish_deadline, { state: it.overdue ? 'overdue' : null }))
            : null,
        );
      }),
    ),
  );
}

export function summaryCategory(it: TicketSummary): string {
  return pathText(it.category_path) || categoryPathText(it.category_code);
}

export function summaryPlace(it: TicketSummary): string {
  return [it.district_name ?? unitName(it.district_code), it.street_name ?? unitName(it.street_code)].filter(Boolean).join(' · ');
}

// the one pager of every long list (the scorecard imports it from here too)
export { pager };

/**
 * Makes the names in `items` known: district names always (one cached request); the category
 * tree and street lists only when the server did not send `category_path` / `street_name`.
 */
export async function warmNames(items: TicketSummary[]): Promise<void> {
  const jobs: Promise<unknown>[] = [];
  if (items.some((i) => !i.district_name)) jobs.push(loadUnits({ kind: 'district' }).catch(() => null));
  if (items.some((i) => !i.category_path)) jobs.push(loadCategories().catch(() => null));
  const districts = [...new Set(items.filter((i) => !i.street_name).map((i) => i.district_code).filter(Boolean))];
  for (const d of districts) jobs.push(loadUnits({ parent: d }).catch(() => null));
  await Promise.all(jobs);
}

/** YYYY-MM-DD of the day after `d` (YYYY-MM-DD). */
export function nextDay(d: string): string {
  const t = Date.parse(`${d}T00:00:00Z`);
  return Number.isNaN(t) ? d : new Date(t + 86_400_000).toISOString().slice(0, 10);
}

/**
 * The caller's phone searched for (来电号码查询): kept in memory only, never in the address bar
 * or the browser's history (it is personal data); the server audits every search.
 */
let phoneQuery = '';

export async function ticketsPage({ root, route, alive }: PageCtx): Promise<void> {
  const q = route.query;
  rememberList('tickets_title');
  const isUnit = can('unit-desk');
  const status = select('status', enumOptions('statuses', STATUSES), { placeholder: t('filter_all'), value: q.get('status') ?? '' });
  const cat = categoryPicker({ value: q.get('category') ?? undefined });
  // channel and type come from the dashboard's drills too (its channel and type filters)
  const channel = select('channel', enumOptions('channels', CHANNELS), { placeholder: t('filter_all'), value: q.get('channel') ?? '' });
  const reqType = select('type', enumOptions('types', TYPES), { placeholder: t('filter_all'), value: q.get('type') ?? '' });
  const district = select('district', [], { placeholder: t('filter_all') });
  const from = input('from', { type: 'date', value: q.get('from') ?? '' });
  const to = input('to', { type: 'date', value: q.get('to') ?? '' });
  const overdue = h('input', { type: 'checkbox', name: 'overdue', checked: q.get('overdue') === 'true' });
  const mine = h('input', { type: 'checkbox', name: 'mine', checked: q.get('mine') === 'true' });
  const canPhone = can('phone-search');
  const phone = input('phone', { type: 'tel', inputmode: 'tel', autocomplete: 'off', maxlength: 20, value: phoneQuery, placeholder: t('phone_search_hint') });
  const sort = select(
    'sort',
    [
      { value: '', label: t('sort_created') },
      { value: 'deadline', label: t('sort_deadline') },
    ],
    { value: q.get('sort') ?? '' },
  );
  void loadUnits({ kind: 'district' }).then((ds) => {
    district.replaceChildren(h('option', { value: '' }, t('filter_all')), ...ds.map((d) => h('option', { value: d.code }, d.name)));
    district.value = q.get('district') ?? '';
  });

  const page = Number(q.get('page') ?? '1') || 1;
  // a unit filter comes from links (the supervision board); it is shown as a removable chip
  let unit = q.get('unit') ?? '';
  // a street filter comes from the dashboard's links (its ledger, its street heat grid)
  let street = q.get('street') ?? '';
  const apply = (p = 1) => {
    phoneQuery = canPhone ? phone.value.trim() : '';
    navigate(
      href('/tickets', {
        unit,
        street,
        status: status.value,
        category: cat.value(),
        channel: channel.value,
        type: reqType.value,
        district: district.value,
        from: from.value,
        to: to.value,
        overdue: overdue.checked,
        mine: mine.checked,
        sort: sort.value,
        page: p > 1 ? p : undefined,
      }).slice(1),
    );
  };
  const narrow = window.matchMedia('(max-width: 720px)').matches;
  const active = ['unit', 'street', 'status', 'category', 'channel', 'type', 'district', 'from', 'to', 'overdue', 'mine', 'sort'].filter((k) => q.get(k)).length + (phoneQuery ? 1 : 0);
  const unitChip = unit
    ? h(
        'div',
        { class: 'filter-chip', 'data-testid': 'unit-filter', 'data-unit': unit },
        h('span', { class: 'muted' }, `${t('filter_unit')}：`),
        h('strong', { class: 'unit-filter-name' }, unitName(unit)),
        h('span', { class: 'muted small mono' }, ` ${unit}`),
        button('×', {
          class: 'btn ghost small',
          'aria-label': t('filter_unit_clear'),
          onclick: () => {
            unit = '';
            apply(1);
          },
        }),
      )
    : null;
  const streetChip = street
    ? h(
        'div',
        { class: 'filter-chip', 'data-testid': 'street-filter', 'data-street': street },
        h('span', { class: 'muted' }, `${t('filter_street')}：`),
        h('strong', { class: 'street-filter-name' }, unitName(street)),
        h('span', { class: 'muted small mono' }, ` ${street}`),
        button('×', {
          class: 'btn ghost small',
          'aria-label': t('filter_street_clear'),
          onclick: () => {
            street = '';
            apply(1);
          },
        }),
      )
    : null;
  if (street && unitName(street) === street) {
    void loadUnits({ parent: street.slice(0, 6) })
      .then(() => {
        const n = streetChip?.querySelector('.street-filter-name');
        if (n) n.textContent = unitName(street);
      })
      .catch(() => undefined);
  }
  if (unit && unitName(unit) === unit) {
    // a name for the chip: the dispatchable units list knows every unit a ticket can go to
    void loadDispatchUnits().then(() => {
      const n = unitChip?.querySelector('.unit-filter-name');
      if (n) n.textContent = unitName(unit);
    });
  }
  const filters = h(
    'form',
    { class: 'card filters', 'aria-label': t('search') },
    narrow ? h('button', { type: 'button', class: 'btn ghost small filter-toggle', 'aria-expanded': 'false', onclick: (ev: Event) => toggleFilters(ev.currentTarget as HTMLElement) }, t('filters'), active ? ` (${active})` : '') : null,
    unitChip,
    streetChip,
    h(
      'div',
      { class: 'filter-grid', hidden: narrow },
      field(t('filter_status'), status),
      field(t('category'), cat.el, { labelFor: cat.input }),
      field(t('dash_channel'), channel),
      field(t('dash_type'), reqType),
      field(t('district'), district),
      field(t('filter_from'), from),
      field(t('filter_to'), to),
      field(t('sort_by'), sort),
      canPhone ? field(t('phone_search'), phone) : null,
    ),
    h(
      'div',
      { class: 'filter-actions', hidden: narrow },
      h('label', { class: 'check' }, overdue, ' ', t('filter_overdue')),
      isUnit ? h('label', { class: 'check' }, mine, ' ', t('filter_mine')) : null,
      h('span', { class: 'spacer' }),
      h('a', { class: 'btn ghost', href: '#/tickets', onclick: () => (phoneQuery = '') }, t('reset')),
      h('button', { type: 'submit', class: 'btn primary' }, t('search')),
    ),
  );
  function toggleFilters(btn: HTMLElement) {
    const open = btn.getAttribute('aria-expanded') !== 'true';
    btn.setAttribute('aria-expanded', String(open));
    filters.querySelectorAll<HTMLElement>('.filter-grid, .filter-actions').forEach((el) => (el.hidden = !open));
  }
  filters.addEventListener('submit', (ev) => {
    ev.preventDefault();
    apply(1);
  });
  const results = h('div', { class: 'results' }, loadingBlock());
  mount(root, pageHeader(t('tickets_title')), filters, results);

  const load = async () => {
    try {
      const res = await api.tickets({
        unit: q.get('unit') ?? undefined,
        street: q.get('street') ?? undefined,
        status: q.get('status') ?? undefined,
        category: q.get('category') ?? undefined,
        channel: q.get('channel') ?? undefined,
        type: q.get('type') ?? undefined,
        district: q.get('district') ?? undefined,
        from: q.get('from') ?? undefined,
        // the server's `to` is exclusive; the form's 受理止 date is inclusive
        to: q.get('to') ? nextDay(q.get('to')!) : undefined,
        overdue: q.get('overdue') === 'true' || undefined,
        mine: q.get('mine') === 'true' || undefined,
        sort: q.get('sort') ?? undefined,
        phone: (canPhone && phoneQuery) || undefined,
        page,
        page_size: 20,
      });
      await warmNames(res.items);
      if (!alive()) return;
      if (res.items.length === 0) mount(results, h('div', { class: 'card empty-state' }, t('no_tickets')));
      else mount(results, h('div', { class: 'card flush' }, ticketTable(res.items)), pager(res.page, res.page_size, res.total, (p) => apply(p)));
    } catch (e) {
      if (alive()) mount(results, errorBlock(e instanceof ApiError ? e.text(lang()) : String(e), () => void load()));
    }
  };
  await load();
}
