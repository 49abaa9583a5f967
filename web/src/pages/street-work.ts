// 治理类街乡镇工作台账 (#/streets/work/{code}?period=YYYY-MM): one street's file — its class in the
// month with list state, exit progress and tracking after exit; its 未进先治 pre-warnings; the
// interviews (约谈) its district or the centre filed (and the form to file one, for those who
// may); its problem and project lists with owners, due days, status and progress (add, change:
// a change made meanwhile answers 409); monitoring of its volume and 三率 by day, week and month;
// and every change recorded.

import { ApiError, request } from '../api';
import { errorBlock, loadingBlock, pageHeader, timeline } from '../components';
import { button, clearErrors, field, h, input, mount, select, showFieldError, textarea, toast } from '../dom';
import type { operations } from '../generated/api-types';
import { lang, t } from '../i18n';
import type { PageCtx } from '../page';
import { href, navigate } from '../router';

type Ok<K extends keyof operations> = operations[K] extends { responses: { 200: { content: { 'application/json': infer T } } } } ? T : never;
export type StreetWork = Ok<'get_governance_street_work_street'>;
type ItemView = StreetWork['projects'][number];
type MonitorView = StreetWork['daily'][number];

const STATUSES = ['open', 'in_progress', 'done'] as const;
const STATUS_TONE: Record<string, string> = { open: 'muted', in_progress: 'info', done: 'ok' };

function pct(x: number | null | undefined): string {
  return x == null ? '—' : `${(x * 100).toFixed(1)}%`;
}

function statusLabel(s: string): string {
  return t(`sw_status_${s}` as never);
}

function failed(form: HTMLElement, e: unknown): void {
  const err = e instanceof ApiError ? e : null;
  if (!showFieldError(form, err?.field ?? undefined, err?.message ?? String(e))) toast(err?.message ?? String(e), 'error');
}

function monitorTable(points: MonitorView[], grain: string): HTMLElement {
  const max = Math.max(1, ...points.map((p) => p.volume));
  return h(
    'div',
    { class: 'table-scroll' },
    h(
      'table',
      { class: 'table sw-monitor', 'data-testid': `sw-monitor-${grain}`, 'aria-label': t(`sw_grain_${grain}` as never) },
      h('thead', null, h('tr', null, [t('sw_period'), t('st_volume'), t('sw_resolution'), t('sw_satisfaction'), t('sw_response')].map((c) => h('th', { scope: 'col' }, c)))),
      h(
        'tbody',
        null,
        [...points].reverse().map((p) =>
          h(
            'tr',
            { 'data-testid': 'sw-point', 'data-from': p.from },
            h('td', { 'data-label': t('sw_period') }, grain === 'month' ? p.from.slice(0, 7) : p.from),
            h(
              'td',
              { 'data-label': t('st_volume'), class: 'num' },
              h('span', { class: 'sw-bar', style: `width:${Math.round((p.volume / max) * 80)}px`, 'aria-hidden': 'true' }),
              ` ${p.volume}`,
            ),
            h('td', { 'data-label': t('sw_resolution'), class: 'num' }, pct(p.resolution_rate)),
            h('td', { 'data-label': t('sw_satisfaction'), class: 'num' }, pct(p.satisfaction_rate)),
            h('td', { 'data-label': t('sw_response'), class: 'num' }, pct(p.response_rate)),
          ),
        ),
      ),
    ),
  );
}

export async function streetWorkPage({ root, alive, route }: PageCtx, code: string): Promise<void> {
  const period = route.query.get('period') ?? '';
  const body = h('div', null, loadingBlock());
  mount(root, pageHeader(t('sw_title'), t('sw_lead')), body);
  let w: StreetWork;
  const path = `/api/v1/governance/street-work/${encodeURIComponent(code)}`;
  try {
    w = await request<StreetWork>('GET', period ? `${path}?period=${encodeURIComponent(period)}` : path);
  } catch (e) {
    if (alive()) mount(body, errorBlock(e instanceof ApiError ? e.message : String(e)));
    return;
  }
  if (!alive()) return;
  const reload = () => navigate(location.hash.slice(1), true);
  const s = w.standing;
  const standing = h(
    'dl',
    { class: 'facts', 'data-testid': 'sw-standing' },
    h('dt', null, t('st_street')),
    h('dd', null, h('strong', null, w.name), ` · ${w.district_name}`),
    h('dt', null, t('st_month')),
    h('dd', null, s ? s.period : '—'),
    h('dt', null, t('st_class')),
    h(
      'dd',
      null,
      s ? h('span', { class: 'badge', 'data-testid': 'sw-class', 'data-class': s.class }, lang() === 'zh' ? s.class_label : t(`st_class_${s.class}` as never)) : '—',
      s?.pre_warning ? [' ', h('span', { class: 'badge warn', 'data-testid': 'sw-pre-warning' }, t('st_pre_warning'))] : null,
    ),
    s ? h('dt', null, t('sw_volume_rank')) : null,
    s ? h('dd', null, `${s.volume} · ${t('sw_nth', { n: s.volume_rank })}${s.rank == null ? '' : ` · ${t('st_rank')} ${s.rank}`}`) : null,
    s?.listed ? h('dt', null, t('sw_listed_since')) : null,
    s?.listed ? h('dd', { 'data-testid': 'sw-listed' }, `${s.listed_since ?? ''} · ${t('sw_exit_progress', { n: s.exit_progress, of: s.exit_months })}`) : null,
    s?.tracked_until ? h('dt', null, t('sw_tracked')) : null,
    s?.tracked_until ? h('dd', { 'data-testid': 'sw-tracked' }, t('sw_tracked_until', { m: s.tracked_until })) : null,
    s ? h('dt', null, t('st_reason')) : null,
    s ? h('dd', null, s.reason) : null,
  );
  const warnings = w.pre_warnings.length
    ? h(
        'ul',
        { class: 'chip-list', 'data-testid': 'sw-pre-warnings' },
        w.pre_warnings.map((p) =>
          h('li', null, h('a', { href: `#/alerts/${p.alert_id}` }, `${p.month} ${t('st_pre_warning')}${p.volume_rank ? ` · ${t('sw_nth', { n: p.volume_rank })}` : ''} · ${t(`alert_status_${p.status}` as never)}`)),
        ),
      )
    : h('p', { class: 'muted' }, t('sw_no_pre_warning'));

  // monitoring: day / week / month
  const grains: [string, MonitorView[]][] = [
    ['day', w.daily],
    ['week', w.weekly],
    ['month', w.monthly],
  ];
  const monitorBox = h('div', null, monitorTable(w.monthly, 'month'));
  let shown = 'month';
  const grainTabs = h('nav', { class: 'tabs', 'aria-label': t('sw_monitor') });
  const drawTabs = () =>
    mount(
      grainTabs,
      grains.map(([g, pts]) =>
        h(
          'a',
          {
            href: '#',
            class: shown === g ? 'active' : null,
            'aria-current': shown === g ? 'page' : null,
            'data-testid': `sw-grain-${g}`,
            onclick: (e: Event) => {
              e.preventDefault();
              shown = g;
              drawTabs();
              mount(monitorBox, monitorTable(pts, g));
            },
          },
          t(`sw_grain_${g}` as never),
        ),
      ),
    );
  drawTabs();

  // interviews
  const interviews = w.interviews.length
    ? h(
        'ul',
        { class: 'sw-interviews', 'data-testid': 'sw-interviews' },
        w.interviews.map((i) =>
          h(
            'li',
            { class: 'card', 'data-testid': 'sw-interview' },
            h('strong', null, i.held_on),
            ' · ',
            i.attendees.join('、'),
            h('p', null, i.findings),
            h('small', { class: 'muted' }, `${t('sw_filed_by')} ${i.filed_by}${i.alert_id ? ` · ${t('st_pre_warning')} #${i.alert_id}` : ''}`),
          ),
        ),
      )
    : h('p', { class: 'muted', 'data-testid': 'sw-no-interview' }, t('sw_no_interview'));
  let interviewForm: HTMLElement | null = null;
  if (w.can_interview) {
    const heldOn = input('held_on', { type: 'date', required: true, 'data-testid': 'sw-held-on' });
    const attendees = input('attendees', { required: true, 'data-testid': 'sw-attendees', placeholder: t('sw_attendees_hint') });
    const findings = textarea('findings', { rows: 3, maxlength: 5000, required: true, 'data-testid': 'sw-findings' });
    const alertSel = select(
      'alert_id',
      w.pre_warnings.map((p) => ({ value: String(p.alert_id), label: `${p.month} #${p.alert_id}` })),
      { placeholder: t('sw_no_alert'), value: w.pre_warnings[0] ? String(w.pre_warnings[0].alert_id) : '' },
    );
    const form: HTMLFormElement = h('form', {
      class: 'form-grid',
      'data-testid': 'sw-interview-form',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        clearErrors(form);
        try {
          await request('POST', `${path}/interviews`, {
            held_on: heldOn.value,
            attendees: attendees.value.split(/[,，、;；]/).map((x) => x.trim()).filter(Boolean),
            findings: findings.value,
            alert_id: alertSel.value ? Number(alertSel.value) : null,
          });
          toast(t('saved'));
          reload();
        } catch (err) {
          failed(form, err);
        }
      },
    });
    mount(
      form,
      field(t('sw_held_on'), heldOn, { name: 'held_on', required: true }),
      field(t('sw_attendees'), attendees, { name: 'attendees', required: true, hint: t('sw_attendees_hint') }),
      field(t('sw_answers_alert'), alertSel, { name: 'alert_id' }),
      field(t('sw_findings'), findings, { name: 'findings', required: true, wide: true }),
      h('div', { class: 'actions' }, button(t('sw_file_interview'), { type: 'submit', class: 'btn primary', 'data-testid': 'sw-file-interview' })),
    );
    interviewForm = h('details', { class: 'sw-form' }, h('summary', null, t('sw_new_interview')), form);
  }

  // the two lists
  const list = (kind: 'problem' | 'project', items: ItemView[], prog: StreetWork['project_progress']) => {
    const rows = items.map((it) => {
      const tr = h(
        'tr',
        { 'data-testid': 'sw-item', 'data-id': it.id, 'data-status': it.status },
        h('td', { 'data-label': t('sw_item_title') }, it.title),
        h('td', { 'data-label': t('sw_owner') }, it.owner),
        h('td', { 'data-label': t('sw_due') }, it.due, it.overdue ? [' ', h('span', { class: 'badge warn', 'data-testid': 'sw-overdue' }, t('sw_overdue'))] : null),
        h('td', { 'data-label': t('col_status') }, h('span', { class: `badge ${STATUS_TONE[it.status] ?? 'muted'}` }, lang() === 'zh' ? it.status_label : statusLabel(it.status))),
        h('td', { 'data-label': t('sw_progress') }, it.progress || '—'),
        h(
          'td',
          null,
          w.can_edit
            ? button(t('sw_update'), {
                class: 'btn small',
                'data-testid': 'sw-edit',
                onclick: () => {
                  const st = select('status', STATUSES.map((x) => ({ value: x, label: statusLabel(x) })), { value: it.status });
                  st.setAttribute('data-testid', 'sw-edit-status');
                  const due = input('due', { type: 'date', value: it.due });
                  const progress = input('progress', { value: it.progress, 'data-testid': 'sw-edit-progress' });
                  const f: HTMLFormElement = h('form', {
                    class: 'sw-edit-form',
                    onsubmit: async (e: Event) => {
                      e.preventDefault();
                      clearErrors(f);
                      try {
                        await request('PUT', `${path}/items/${it.id}`, {
                          version: it.version,
                          title: it.title,
                          owner: it.owner,
                          due: due.value,
                          status: st.value,
                          progress: progress.value,
                        });
                        toast(t('saved'));
                        reload();
                      } catch (err) {
                        failed(f, err);
                      }
                    },
                  });
                  mount(
                    f,
                    field(t('col_status'), st, { name: 'status' }),
                    field(t('sw_due'), due, { name: 'due' }),
                    field(t('sw_progress'), progress, { name: 'progress' }),
                    button(t('sw_save'), { type: 'submit', class: 'btn primary small', 'data-testid': 'sw-save' }),
                  );
                  const cell = h('td', { colspan: 6 }, f);
                  tr.replaceChildren(cell);
                },
              })
            : null,
        ),
      );
      return tr;
    });
    const title = input('title', { required: true, maxlength: 200, 'data-testid': `sw-${kind}-title` });
    const owner = input('owner', { required: true, maxlength: 100, 'data-testid': `sw-${kind}-owner` });
    const due = input('due', { type: 'date', required: true, 'data-testid': `sw-${kind}-due` });
    const add: HTMLFormElement = h('form', {
      class: 'form-grid',
      'data-testid': `sw-add-${kind}`,
      onsubmit: async (e: Event) => {
        e.preventDefault();
        clearErrors(add);
        try {
          await request('POST', `${path}/items`, { kind, title: title.value, owner: owner.value, due: due.value });
          toast(t('saved'));
          reload();
        } catch (err) {
          failed(add, err);
        }
      },
    });
    mount(
      add,
      field(t('sw_item_title'), title, { name: 'title', required: true }),
      field(t('sw_owner'), owner, { name: 'owner', required: true }),
      field(t('sw_due'), due, { name: 'due', required: true }),
      h('div', { class: 'actions' }, button(t('sw_add'), { type: 'submit', class: 'btn', 'data-testid': `sw-add-${kind}-submit` })),
    );
    return h(
      'section',
      { class: 'card', 'data-testid': `sw-${kind}s` },
      h('h2', null, t(`sw_${kind}s` as never)),
      h('p', { class: 'muted', 'data-testid': `sw-${kind}-progress` }, t('sw_list_progress', { done: prog.done, total: prog.total, overdue: prog.overdue, rate: pct(prog.done_rate) })),
      rows.length
        ? h(
            'div',
            { class: 'table-scroll' },
            h(
              'table',
              { class: 'table streets-table sw-items', 'aria-label': t(`sw_${kind}s` as never) },
              h('thead', null, h('tr', null, [t('sw_item_title'), t('sw_owner'), t('sw_due'), t('col_status'), t('sw_progress'), ''].map((c) => h('th', { scope: 'col' }, c)))),
              h('tbody', null, rows),
            ),
          )
        : h('p', { class: 'empty' }, t('sw_empty_list')),
      w.can_edit ? h('details', { class: 'sw-form' }, h('summary', null, t(`sw_add_${kind}` as never)), add) : null,
    );
  };

  const changes = timeline(
    w.changes.map((c) => {
      const a = (c.after ?? {}) as Record<string, unknown>;
      const what = c.subject === 'interview' ? `${t('sw_interview')} ${String(a.held_on ?? '')}` : `${String(a.title ?? '')} · ${statusLabel(String(a.status ?? 'open'))}${a.progress ? ` · ${String(a.progress)}` : ''}`;
      return { at: c.at, title: t(`sw_change_${c.action}` as never), who: c.by, body: what, kind: c.action };
    }),
  );

  mount(
    body,
    h('p', null, h('a', { href: href('/streets', s ? { period: s.period } : {}) }, `← ${t('st_title')}`)),
    h('section', { class: 'card' }, standing, h('h2', null, t('sw_pre_warnings')), warnings),
    h('section', { class: 'card', 'data-testid': 'sw-monitor' }, h('h2', null, t('sw_monitor')), grainTabs, monitorBox),
    h('section', { class: 'card' }, h('h2', null, t('sw_interviews')), interviews, interviewForm),
    list('problem', w.problems, w.problem_progress),
    list('project', w.projects, w.project_progress),
    h('section', { class: 'card', 'data-testid': 'sw-changes' }, h('h2', null, t('sw_changes')), w.changes.length ? changes : h('p', { class: 'muted' }, t('sw_no_changes'))),
  );
}
