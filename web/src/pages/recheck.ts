// The supervisor's re-check of callbacks (回访抽样复核), a tab of the callback desk: a reproducible
// random sample of called-back tickets (GET /callbacks/recheck-sample), each with the callback being
// re-checked (answers, who recorded it, self-rating or agent, unreachable attempts), and the verdict:
// 复核一致 / 复核不一致 with a note (POST /callbacks/rechecks, an audited record, once per round).

import { ApiError } from '../api';
import { cbApi, type SampleItem } from '../callback-api';
import { errorBlock, loadingBlock, radioGroup, radioValue } from '../components';
import { clearErrors, field, h, input, mount, showFieldError, textarea, toast } from '../dom';
import { cityDay, fmtTime } from '../format';
import { lang, t } from '../i18n';
import type { PageCtx } from '../page';
import { href, navigate } from '../router';
import { enumLabel, unitName } from '../store';

/** A date input's value: the city's day (the server reads from/to as city days). */
const day = (d: Date) => cityDay(d);

export async function recheckPanel({ route, alive }: PageCtx, body: HTMLElement): Promise<void> {
  const q = route.query;
  const now = new Date();
  const from = /^\d{4}-\d{2}-\d{2}$/.test(q.get('from') ?? '') ? q.get('from')! : day(new Date(now.getTime() - 30 * 86400_000));
  const to = /^\d{4}-\d{2}-\d{2}$/.test(q.get('to') ?? '') ? q.get('to')! : day(new Date(now.getTime() + 86400_000));
  const n = Math.min(200, Math.max(1, Number(q.get('n') ?? '20') || 20));

  const fromIn = input('from', { type: 'date', value: from });
  const toIn = input('to', { type: 'date', value: to });
  const nIn = input('n', { type: 'number', min: 1, max: 200, value: n });
  const form = h(
    'form',
    { class: 'filters card', 'data-testid': 'recheck-filter' },
    h('p', { class: 'muted small' }, t('rc_lead')),
    h('div', { class: 'filter-grid' }, field(t('rc_from'), fromIn, { name: 'from' }), field(t('rc_to'), toIn, { name: 'to' }), field(t('rc_n'), nIn, { name: 'n' })),
    h('div', { class: 'actions-row' }, h('button', { type: 'submit', class: 'btn primary' }, t('rc_load'))),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    navigate(href('/callbacks', { tab: 'recheck', from: fromIn.value, to: toIn.value, n: nIn.value }).slice(1), true);
  });
  const summary = h('p', { class: 'small', 'data-testid': 'recheck-summary' });
  const list = h('div', { class: 'stack' }, loadingBlock());
  mount(body, form, summary, list);

  let items: SampleItem[];
  let max = 3;
  try {
    const res = await cbApi.sample(from, to, n);
    items = res.items;
    max = res.max_attempts ?? max;
  } catch (e) {
    if (alive()) mount(list, errorBlock(e instanceof ApiError ? e.text(lang()) : String(e)));
    return;
  }
  if (!alive()) return;
  const drawSummary = () => {
    const done = items.filter((i) => i.recheck);
    const agree = done.filter((i) => i.recheck?.verdict === 'agree').length;
    summary.textContent = t('rc_summary', { n: done.length, all: items.length, agree, disagree: done.length - agree });
  };
  drawSummary();
  if (!items.length) return mount(list, h('div', { class: 'card empty-state' }, t('rc_empty')));

  const card = (it: SampleItem): HTMLElement => {
    const cb = it.callback;
    const el = h('section', { class: 'card recheck-item', 'data-ticket': it.number, 'data-testid': 'recheck-item' });
    const verdictBox = h('div');
    const answers = cb
      ? h(
          'dl',
          { class: 'facts' },
          h('dt', null, t('cb_contacted')),
          h('dd', null, cb.contacted ? t('yes') : t('no')),
          h('dt', null, t('cb_resolution')),
          h('dd', { 'data-testid': 'recheck-resolution' }, enumLabel('resolutions', cb.resolution)),
          h('dt', null, t('cb_satisfaction')),
          h('dd', null, enumLabel('satisfactions', cb.satisfaction)),
          cb.comment ? [h('dt', null, t('cb_comment')), h('dd', null, cb.comment)] : null,
          h('dt', null, t('cb_called_back')),
          h('dd', null, fmtTime(cb.at), ' · ', cb.self_rating ? t('rc_by_self') : t('rc_by', { user: cb.by ?? '—' })),
        )
      : h('p', { class: 'muted' }, t('rc_no_callback'));
    const showDone = () => {
      const r = it.recheck!;
      mount(
        verdictBox,
        h(
          'div',
          { class: `alert ${r.verdict === 'agree' ? 'info' : 'warn'}`, 'data-testid': 'recheck-done', 'data-verdict': r.verdict },
          t('rc_done', { verdict: r.verdict === 'agree' ? t('rc_agree') : t('rc_disagree'), user: r.user, at: fmtTime(r.at) }),
          r.note ? h('div', { class: 'prewrap' }, r.note) : null,
        ),
      );
    };
    if (it.recheck) showDone();
    else if (cb) {
      const note = textarea('note', { rows: 2, maxlength: 2000 });
      const save = h('button', { type: 'submit', class: 'btn primary' }, t('rc_save'));
      const f = h(
        'form',
        { class: 'stack', 'data-testid': 'recheck-form', novalidate: true },
        radioGroup(
          'verdict',
          t('rc_verdict'),
          [
            { value: 'agree', label: t('rc_agree') },
            { value: 'disagree', label: t('rc_disagree') },
          ],
          '',
        ),
        field(t('rc_note'), note, { name: 'note' }),
        h('div', { class: 'form-error', role: 'alert' }),
        h('div', { class: 'actions-row' }, save),
      );
      f.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        clearErrors(f);
        const verdict = radioValue(f, 'verdict') as 'agree' | 'disagree' | '';
        if (!verdict) return void showFieldError(f, 'verdict', t('required_field', { label: t('rc_verdict') }));
        save.disabled = true;
        try {
          it.recheck = await cbApi.recheck({ ticket_id: it.id, verdict, note: note.value.trim() || undefined });
          toast(t('rc_saved'));
          showDone();
          drawSummary();
        } catch (e) {
          // the server's bilingual message, next to the field it names (e.g. a disagreement without a note)
          showFieldError(f, e instanceof ApiError ? e.field : undefined, e instanceof ApiError ? e.text(lang()) : String(e));
          save.disabled = false;
        }
      });
      mount(verdictBox, f);
    }
    mount(
      el,
      h(
        'div',
        { class: 'cb-head' },
        h('a', { class: 'ticket-no', href: `#/tickets/${it.id}` }, it.number),
        ' ',
        h('span', null, it.title),
        ' ',
        h('span', { class: 'muted small' }, it.lead_unit ? (it.lead_unit_name ?? unitName(it.lead_unit)) : ''),
        it.unreachable_attempts ? [' ', h('span', { class: 'badge muted' }, t('cb_attempts', { n: it.unreachable_attempts, max }))] : null,
      ),
      answers,
      verdictBox,
    );
    return el;
  };
  mount(list, items.map(card));
}
