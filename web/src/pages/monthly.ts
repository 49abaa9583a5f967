// 每月一题 (#/monthly, #/monthly?topic=ID): the adopted topics of the month with their plan, three
// lists (tasks, responsibilities, policies), progress and each problem's outcome (dispatched volume
// by month, month over month, year over year, 三率), every version kept; for the centre, the
// candidate problems mined from last year's requests with the tickets behind them, and (supervisors,
// admins) adopting one or editing a topic. A unit sees the topics it is named in.

import { ApiError, request } from '../api';
import { mountChart } from '../chart';
import { errorBlock, loadingBlock, pageHeader } from '../components';
import { button, field, h, input, mount, select, showFieldError, textarea, toast } from '../dom';
import type { components, operations } from '../generated/api-types';
import { lang, t } from '../i18n';
import type { PageCtx } from '../page';
import { href, navigate } from '../router';
import { can, loadUnits } from '../store';

type Ok<K extends keyof operations> = operations[K] extends { responses: { 200: { content: { 'application/json': infer T } } } } ? T : never;
export type CandidatesView = Ok<'get_governance_monthly_candidates'>;
export type TopicList = Ok<'get_governance_monthly_topics'>;
export type TopicView = Ok<'get_governance_monthly_topics_id'>;
type Topic = components['schemas']['Topic'];
type Candidate = CandidatesView['candidates'][number];
type RulePreview = components['schemas']['RulePreviewView'];
type TaskStatus = Topic['tasks'][number]['status'];
const STATUSES: TaskStatus[] = ['todo', 'doing', 'done'];

const pct = (x: number | null | undefined) => (x == null ? '—' : `${(x * 100).toFixed(1)}%`);
const change = (x: number | null | undefined) => (x == null ? '—' : `${x > 0 ? '+' : ''}${(x * 100).toFixed(1)}%`);

function progressBar(p: TopicView['progress']): HTMLElement {
  return h(
    'div',
    { class: 'mt-progress', 'data-testid': 'mt-progress' },
    h('div', { class: 'mt-bar', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(p.percent) }, h('span', { style: `width:${Math.min(100, p.percent)}%` })),
    h('span', null, t('mt_progress').replace('{done}', String(p.done)).replace('{total}', String(p.total)).replace('{pct}', p.percent.toFixed(2))),
  );
}

function lines(s: string): string[][] {
  return s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => l.split('|').map((x) => x.trim()));
}

const split = (s: string | undefined) => (s ?? '').split(/[,，]/).map((x) => x.trim()).filter(Boolean);

/** The problems field's lines: label | categories | keywords | places. */
function problemLines(s: string): Topic['problems'] {
  return lines(s).map((p) => ({ label: p[0] ?? '', rule: { categories: split(p[1]), keywords: split(p[2]), places: split(p[3]) } }));
}

/** One problem's preview: its requests per month as bars, the newest tickets it takes. */
function previewCard(label: string, p: RulePreview): HTMLElement {
  const max = Math.max(1, ...p.requests);
  return h(
    'section',
    { class: 'card mt-preview', 'data-testid': 'mt-preview-card' },
    h('h4', null, label || '—', ' ', h('span', { class: 'muted small', 'data-testid': 'mt-preview-total' }, t('mt_preview_total').replace('{n}', String(p.total)).replace('{from}', p.months[0] ?? '').replace('{to}', p.months[p.months.length - 1] ?? ''))),
    h(
      'div',
      { class: 'mt-spark', role: 'img', 'aria-label': p.months.map((m, i) => `${m} ${p.requests[i]}`).join('，') },
      p.months.map((m, i) =>
        h(
          'div',
          { class: 'mt-spark-col', title: `${m}：${t('mt_requests')} ${p.requests[i]}，${t('mt_dispatched')} ${p.dispatched[i]}` },
          h('span', { class: 'mt-spark-n' }, String(p.requests[i] ?? 0)),
          h('span', { class: 'mt-spark-area' }, h('span', { class: 'mt-spark-bar', style: `height:${Math.round(((p.requests[i] ?? 0) / max) * 100)}%` })),
          h('span', { class: 'mt-spark-m' }, m.slice(2)),
        ),
      ),
    ),
    p.sample.length === 0
      ? h('p', { class: 'empty' }, t('mt_preview_none'))
      : h(
          'ol',
          { class: 'mt-sample', 'data-testid': 'mt-sample' },
          p.sample.map((x) => h('li', null, h('a', { href: `#/tickets/${x.id}` }, x.number), ` · ${x.date} · ${x.district} · `, h('span', { class: 'muted small' }, x.category_name), ' ', x.title)),
        ),
    p.texts_limited ? h('p', { class: 'muted small' }, t('mt_preview_texts')) : null,
  );
}

/** Previews each problem line's rule in `slot`; a bad rule shows the server's words. */
async function previewRules(text: string, slot: HTMLElement, btn: HTMLButtonElement): Promise<void> {
  const ps = problemLines(text);
  if (ps.length === 0) {
    mount(slot, h('p', { class: 'alert error', role: 'alert' }, t('mt_preview_empty')));
    return;
  }
  btn.disabled = true;
  mount(slot, loadingBlock());
  try {
    const cards: HTMLElement[] = [];
    for (const p of ps) {
      try {
        const r = await request<RulePreview>('POST', '/api/v1/governance/monthly/rule-preview', { rule: p.rule });
        cards.push(previewCard(p.label, r));
      } catch (e) {
        const msg = e instanceof ApiError ? `${e.text(lang())}${e.field ? `（${e.field}）` : ''}` : String(e);
        cards.push(h('p', { class: 'alert error', role: 'alert', 'data-testid': 'mt-preview-error' }, `${p.label || '—'}：${msg}`));
      }
    }
    mount(slot, cards);
  } finally {
    btn.disabled = false;
  }
}

/** The adopt / edit form; `base` fills it. */
async function topicForm(base: Topic, onSubmit: (t: Topic) => Promise<void>): Promise<HTMLElement> {
  const units = await loadUnits({ kind: 'city_department' }).catch(() => []);
  const month = input('month', { type: 'month', value: base.month, required: true, 'data-testid': 'mt-f-month' });
  const theme = input('theme', { value: base.theme, required: true, 'data-testid': 'mt-f-theme' });
  const lead = select('lead_unit', units.map((u) => ({ value: u.code, label: u.name })), { value: base.lead_unit, placeholder: '—', required: true });
  lead.setAttribute('data-testid', 'mt-f-lead');
  const leader = input('leader', { value: base.leader, required: true, 'data-testid': 'mt-f-leader' });
  const plan = textarea('plan', { 'data-testid': 'mt-f-plan' });
  plan.value = base.plan;
  const problems = textarea('problems', { 'data-testid': 'mt-f-problems' });
  problems.value = base.problems.map((p) => [p.label, p.rule.categories.join(','), p.rule.keywords.join(','), p.rule.places.join(',')].join(' | ')).join('\n');
  const tasks = textarea('tasks', { 'data-testid': 'mt-f-tasks' });
  tasks.value = base.tasks.map((x) => [x.title, x.owner, x.due, x.status].join(' | ')).join('\n');
  const resp = textarea('responsibilities', { 'data-testid': 'mt-f-resp' });
  resp.value = base.responsibilities.map((x) => [x.unit, x.duty].join(' | ')).join('\n');
  const previewSlot = h('div', { class: 'mt-previews', 'data-testid': 'mt-previews', 'aria-live': 'polite' });
  const previewBtn = button(t('mt_preview'), { class: 'btn small', 'data-testid': 'mt-preview' });
  previewBtn.addEventListener('click', () => void previewRules(problems.value, previewSlot, previewBtn));
  // a preview answers the rules as they were: gone once they change
  problems.addEventListener('input', () => previewSlot.replaceChildren());
  const pol = textarea('policies', { 'data-testid': 'mt-f-policies' });
  pol.value = base.policies.map((x) => [x.title, x.issued, x.issuer].join(' | ')).join('\n');
  const form = h(
    'form',
    { class: 'card form-grid', 'data-testid': 'mt-form' },
    field(t('mt_month'), month, { name: 'month', required: true }),
    field(t('mt_theme'), theme, { name: 'theme', required: true }),
    field(t('mt_lead'), lead, { name: 'lead_unit', required: true }),
    field(t('mt_leader'), leader, { name: 'leader', required: true }),
    field(t('mt_plan'), plan, { name: 'plan', required: true, wide: true }),
    field(t('mt_problems'), problems, { name: 'problems', wide: true, hint: t('mt_problems_hint') }),
    h('div', { class: 'field wide mt-preview-box' }, h('div', { class: 'actions' }, previewBtn, h('span', { class: 'muted small' }, t('mt_preview_hint'))), previewSlot),
    field(t('mt_tasks'), tasks, { name: 'tasks', wide: true, hint: t('mt_tasks_hint') }),
    field(t('mt_resp'), resp, { name: 'responsibilities', wide: true, hint: t('mt_resp_hint') }),
    field(t('mt_policies'), pol, { name: 'policies', wide: true, hint: t('mt_policies_hint') }),
    h('div', { class: 'actions' }, button(t('mt_save'), { type: 'submit', class: 'btn primary', 'data-testid': 'mt-save' })),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const topic: Topic = {
      month: month.value,
      theme: theme.value.trim(),
      lead_unit: lead.value,
      leader: leader.value.trim(),
      plan: plan.value.trim(),
      problems: problemLines(problems.value),
      tasks: lines(tasks.value).map((x) => ({ title: x[0] ?? '', owner: x[1] ?? '', due: x[2] ?? '', status: (x[3] || 'todo') as Topic['tasks'][number]['status'] })),
      responsibilities: lines(resp.value).map((x) => ({ unit: x[0] ?? '', duty: x[1] ?? '' })),
      policies: lines(pol.value).map((x) => ({ title: x[0] ?? '', issued: x[1] ?? '', issuer: x[2] ?? '' })),
    };
    onSubmit(topic).catch((e) => {
      if (e instanceof ApiError && showFieldError(form, e.field ?? undefined, e.message)) return;
      toast(e instanceof Error ? e.message : String(e), 'error');
    });
  });
  return form;
}

function candidateRow(c: Candidate, adopt: (c: Candidate) => void): HTMLElement {
  return h(
    'tr',
    { 'data-testid': 'mt-candidate', 'data-category': c.category },
    h('td', { 'data-label': '#', class: 'num' }, String(c.rank)),
    h('td', { 'data-label': t('mt_problem') }, h('strong', { 'data-testid': 'mt-label' }, c.label), h('div', { class: 'muted small' }, c.category_name), h('div', { class: 'muted small' }, c.top_words.slice(0, 6).join(' · '))),
    h('td', { 'data-label': t('mt_volume'), class: 'num' }, String(c.volume)),
    h('td', { 'data-label': t('mt_growth'), class: 'num' }, c.growth == null ? '—' : `×${c.growth.toFixed(2)}`),
    h('td', { 'data-label': t('mt_districts'), class: 'num' }, String(c.districts)),
    h('td', { 'data-label': t('mt_units'), class: 'num' }, String(c.lead_units)),
    h('td', { 'data-label': t('mt_rates'), class: 'num' }, `${pct(c.response_rate)} / ${pct(c.resolution_rate)} / ${pct(c.satisfaction_rate)}`),
    h('td', { 'data-label': t('mt_reasons') }, c.reasons.map((r) => h('span', { class: 'badge info' }, r))),
    h(
      'td',
      { 'data-label': t('mt_tickets') },
      h('span', { 'data-testid': 'mt-ticket-count' }, t('mt_n_tickets').replace('{n}', String(c.ticket_count))),
      ' ',
      c.tickets.slice(0, 5).map((id) => [h('a', { href: `#/tickets/${id}`, 'data-testid': 'mt-ticket' }, `#${id}`), ' ']),
    ),
    h('td', null, can('monthly-edit') ? button(t('mt_adopt'), { class: 'btn small', 'data-testid': 'mt-adopt', onclick: () => adopt(c) }) : null),
  );
}

function table(caption: string, head: string[], rows: HTMLElement[], testid: string): HTMLElement {
  return h(
    'div',
    { class: 'table-scroll' },
    h('table', { class: 'table streets-table', 'data-testid': testid, 'aria-label': caption }, h('thead', null, h('tr', null, head.map((c) => h('th', { scope: 'col' }, c)))), h('tbody', null, rows)),
  );
}

const statusBadge = (s: TaskStatus) => h('span', { class: `badge ${s === 'done' ? 'ok' : s === 'doing' ? 'info' : 'muted'}` }, t(`mt_st_${s}` as never));

/** A task's row: overdue flagged; for the lead unit's manager and the admin, its status and note
 * set here, one task at a time (a new version of the topic each). */
function taskRow(v: TopicView, i: number, x: Topic['tasks'][number], reload: () => void): HTMLElement {
  const overdue = v.overdue_task_indexes.includes(i);
  let status: HTMLElement = h('div', null, statusBadge(x.status), x.note ? h('div', { class: 'muted small', 'data-testid': 'mt-task-note' }, x.note) : null);
  if (v.may_update_tasks) {
    const sel = select(`status-${i}`, STATUSES.map((s) => ({ value: s, label: t(`mt_st_${s}` as never) })), { value: x.status });
    sel.setAttribute('aria-label', `${t('mt_status')}：${x.title}`);
    sel.setAttribute('data-testid', 'mt-task-status');
    const note = input(`note-${i}`, { value: x.note ?? '', placeholder: t('mt_task_note'), 'aria-label': `${t('mt_task_note')}：${x.title}`, 'data-testid': 'mt-task-note-input', maxlength: '500' });
    const save = button(t('mt_task_save'), { class: 'btn small primary', 'data-testid': 'mt-task-save' });
    save.addEventListener('click', async () => {
      save.disabled = true;
      try {
        await request('PUT', `/api/v1/governance/monthly/topics/${v.id}/tasks/${i + 1}`, { version: v.version, status: sel.value, note: note.value.trim() });
        toast(t('mt_task_saved'));
        reload();
      } catch (e) {
        toast(e instanceof ApiError ? e.text(lang()) : String(e), 'error');
        if (e instanceof ApiError && e.status === 409) reload();
        else save.disabled = false;
      }
    });
    status = h('div', { class: 'mt-task-edit' }, sel, note, save);
  }
  return h(
    'tr',
    { 'data-testid': 'mt-task', class: overdue ? 'mt-overdue' : null },
    h('td', { 'data-label': t('mt_task') }, x.title, overdue ? [' ', h('span', { class: 'badge warn', 'data-testid': 'mt-task-overdue' }, t('mt_task_overdue'))] : null),
    h('td', { 'data-label': t('mt_owner') }, x.owner),
    h('td', { 'data-label': t('mt_due') }, x.due),
    h('td', { 'data-label': t('mt_status') }, status),
  );
}

async function detail(body: HTMLElement, id: string, alive: () => boolean, cleanups: (() => void)[]): Promise<void> {
  let v: TopicView;
  try {
    v = await request<TopicView>('GET', `/api/v1/governance/monthly/topics/${encodeURIComponent(id)}`);
  } catch (e) {
    if (alive()) mount(body, errorBlock(e instanceof ApiError ? e.message : String(e)));
    return;
  }
  if (!alive()) return;
  const tp = v.topic;
  const outcomes = v.outcomes ?? [];
  const charts = outcomes.map((o, i) => {
    const box = h('div', { class: 'chart', style: 'height:260px', 'data-testid': `mt-chart-${i}` });
    return {
      o,
      box,
      card: h(
        'section',
        { class: 'card', 'data-testid': 'mt-outcome' },
        h('h3', null, o.label),
        h(
          'p',
          { class: 'muted' },
          t('mt_outcome_line')
            .replace('{month}', o.outcome.month)
            .replace('{n}', String(o.outcome.dispatched[o.outcome.dispatched.length - 1] ?? 0))
            .replace('{mom}', change(o.outcome.month_over_month))
            .replace('{yoy}', change(o.outcome.year_over_year)),
          ` · ${t('mt_rates')} ${pct(o.outcome.response_rate)} / ${pct(o.outcome.resolution_rate)} / ${pct(o.outcome.satisfaction_rate)}`,
        ),
        box,
        h('p', { class: 'muted small' }, t('mt_rule'), ' ', `${o.rule.categories.join(',')} · ${o.rule.keywords.join(',') || '—'} · ${o.rule.places.join(',') || t('mt_anywhere')}`),
      ),
    };
  });
  const editSlot = h('div');
  const edit = can('monthly-edit')
    ? button(t('mt_edit'), {
        class: 'btn',
        'data-testid': 'mt-edit',
        onclick: async () => {
          mount(
            editSlot,
            await topicForm(tp, async (topic) => {
              await request('PUT', `/api/v1/governance/monthly/topics/${v.id}`, { version: v.version, note: t('mt_edit_note'), topic });
              toast(t('mt_saved'));
              navigate(href('/monthly', { topic: String(v.id), v: String(v.version + 1) }).slice(1));
            }),
          );
        },
      })
    : null;
  mount(
    body,
    h('p', null, h('a', { href: '#/monthly' }, `← ${t('mt_back')}`)),
    h(
      'section',
      { class: 'card', 'data-testid': 'mt-topic' },
      h('h2', null, `${tp.month} · ${tp.theme}`),
      h('p', null, `${t('mt_lead')}：${v.lead_unit_name} · ${t('mt_leader')}：${tp.leader} · ${t('mt_version')} ${v.version}`),
      progressBar(v.progress),
      v.overdue_tasks ? h('p', { class: 'badge warn' }, t('mt_overdue').replace('{n}', String(v.overdue_tasks))) : null,
      h('h3', null, t('mt_plan')),
      h('p', { 'data-testid': 'mt-plan' }, tp.plan),
      edit,
    ),
    editSlot,
    charts.map((c) => c.card),
    h('h3', null, t('mt_tasks')),
    table(t('mt_tasks'), [t('mt_task'), t('mt_owner'), t('mt_due'), t('mt_status')], tp.tasks.map((x, i) => taskRow(v, i, x, () => void detail(body, id, alive, cleanups))), 'mt-tasks'),
    h('h3', null, t('mt_resp')),
    table(t('mt_resp'), [t('mt_unit'), t('mt_duty')], tp.responsibilities.map((x) => h('tr', null, h('td', null, x.unit), h('td', null, x.duty))), 'mt-resp'),
    h('h3', null, t('mt_policies')),
    table(t('mt_policies'), [t('mt_policy'), t('mt_issued'), t('mt_issuer')], tp.policies.map((x) => h('tr', null, h('td', null, x.title), h('td', null, x.issued), h('td', null, x.issuer))), 'mt-policies'),
    h('h3', null, t('mt_history')),
    h(
      'ol',
      { 'data-testid': 'mt-history' },
      (v.history ?? []).map((x) => h('li', null, `v${x.version} · ${x.at.slice(0, 16).replace('T', ' ')} · ${x.by}${x.note ? ` · ${x.note}` : ''} · ${x.progress.done}/${x.progress.total}`)),
    ),
  );
  for (const c of charts) {
    const o = c.o.outcome;
    const dispose = await mountChart(c.box, {
      tooltip: { trigger: 'axis' },
      legend: { data: [t('mt_dispatched'), t('mt_requests')] },
      grid: { left: 40, right: 16, top: 32, bottom: 28 },
      xAxis: { type: 'category', data: o.months },
      yAxis: { type: 'value', minInterval: 1 },
      series: [
        { name: t('mt_dispatched'), type: 'bar', data: o.dispatched },
        { name: t('mt_requests'), type: 'line', data: o.requests },
      ],
    });
    if (alive()) cleanups.push(dispose);
    else dispose();
  }
}

export async function monthlyPage({ root, alive, route, onCleanup }: PageCtx): Promise<void> {
  const cleanups: (() => void)[] = [];
  onCleanup?.(() => cleanups.forEach((f) => f()));
  const body = h('div', null, loadingBlock());
  mount(root, pageHeader(t('mt_title'), t('mt_lead_text')), body);
  const topicId = route.query.get('topic');
  if (topicId) return detail(body, topicId, alive, cleanups);

  const topicsSlot = h('section', { 'data-testid': 'mt-topics' }, loadingBlock());
  const candSlot = h('section', { 'data-testid': 'mt-candidates' });
  const formSlot = h('div');
  mount(body, h('h2', null, t('mt_adopted')), topicsSlot, formSlot, can('monthly-candidates') ? [h('h2', null, t('mt_candidates')), candSlot] : null);
  try {
    const list = await request<TopicList>('GET', '/api/v1/governance/monthly/topics');
    if (!alive()) return;
    mount(
      topicsSlot,
      list.topics.length === 0
        ? h('p', { class: 'empty', 'data-testid': 'mt-no-topics' }, t('mt_none'))
        : h(
            'div',
            { class: 'stack' },
            list.topics.map((x) =>
              h(
                'article',
                { class: 'card', 'data-testid': 'mt-topic-card', 'data-id': String(x.id) },
                h('h3', null, h('a', { href: href('/monthly', { topic: String(x.id) }) }, `${x.topic.month} · ${x.topic.theme}`)),
                h('p', { class: 'muted' }, `${x.lead_unit_name} · ${x.topic.leader} · ${x.topic.problems.map((p) => p.label).join('、')}`),
                progressBar(x.progress),
              ),
            ),
          ),
    );
  } catch (e) {
    if (alive()) mount(topicsSlot, errorBlock(e instanceof ApiError ? e.message : String(e)));
  }
  if (!can('monthly-candidates')) return;
  mount(candSlot, loadingBlock());
  let v: CandidatesView;
  try {
    const month = route.query.get('month');
    v = await request<CandidatesView>('GET', `/api/v1/governance/monthly/candidates${month ? `?month=${encodeURIComponent(month)}` : ''}`);
  } catch (e) {
    if (alive()) mount(candSlot, errorBlock(e instanceof ApiError ? e.message : String(e)));
    return;
  }
  if (!alive()) return;
  const adopt = async (c: Candidate) => {
    const next = v.months[v.months.length - 1] ?? '';
    const base: Topic = {
      month: next,
      theme: c.label,
      lead_unit: '',
      leader: '',
      plan: '',
      problems: [{ label: c.label, rule: c.suggested_rule }],
      tasks: [],
      responsibilities: [],
      policies: [],
    };
    mount(
      formSlot,
      await topicForm(base, async (topic) => {
        const r = await request<TopicView>('POST', '/api/v1/governance/monthly/topics', topic);
        toast(t('mt_saved'));
        navigate(href('/monthly', { topic: String(r.id) }).slice(1));
      }),
    );
    formSlot.scrollIntoView({ block: 'start' });
  };
  mount(
    candSlot,
    h('p', { class: 'muted', 'data-testid': 'mt-basis' }, t('mt_basis').replace('{from}', v.months[0] ?? '').replace('{to}', v.months[v.months.length - 1] ?? '').replace('{texts}', String(v.texts)).replace('{problems}', String(v.problems)).replace('{npmi}', v.mean_coherence.toFixed(3))),
    h('p', { class: 'muted small' }, v.method),
    v.candidates.length === 0
      ? h('p', { class: 'empty' }, t('mt_no_candidates'))
      : table(
          t('mt_candidates'),
          ['#', t('mt_problem'), t('mt_volume'), t('mt_growth'), t('mt_districts'), t('mt_units'), t('mt_rates'), t('mt_reasons'), t('mt_tickets'), ''],
          v.candidates.map((c) => candidateRow(c, (x) => void adopt(x))),
          'mt-candidate-table',
        ),
  );
}
