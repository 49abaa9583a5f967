// The public tracking page (no log-in): number + tracking code (查询码, given at intake and sent
// by SMS) → the timeline, like tracking a parcel. The server returns only public events (no notes,
// no personal data) and limits failed look-ups (429 with its own message).

import { api, ApiError, type TrackView } from '../api';
import { statusBadge, timeline } from '../components';
import { button, field, h, input, mount, showFieldError } from '../dom';
import { required, serverError, validate, type Rule } from '../forms';
import { fmtLocal, pathText, useServerTimeZone } from '../format';
import { t, type Key } from '../i18n';
import type { PageCtx } from '../page';
import { loadEnums } from '../store';
import { eventTitle } from './ticket';
import { ledgerApi, verifyTimeline } from '../ledger';
import { verdictLine } from './transparency';

/** 验证时间线: the timeline's inclusion proofs and the checkpoint's signature, checked here. */
function verifyBlock(number: string, code: string): HTMLElement {
  const out = h('div', { 'aria-live': 'polite' });
  const run = async () => {
    btn.disabled = true;
    try {
      const proof = await ledgerApi.timelineProof(number, code);
      const v = await verifyTimeline(proof);
      const pending = v.pending > 0 ? h('p', { class: 'muted', 'data-testid': 'tr-pending' }, t('tr_pending', { n: v.pending })) : null;
      if (v.ok && v.proven === 0) mount(out, verdictLine(false, t('tr_timeline_none'), 'tr-timeline-verdict'), pending);
      else if (v.ok) mount(out, verdictLine(true, t('tr_timeline_ok', { n: v.proven, size: proof.checkpoint?.tree_size ?? 0 }), 'tr-timeline-verdict'), pending);
      else if (!proof.checkpoint) mount(out, verdictLine(false, t('tr_timeline_none'), 'tr-timeline-verdict'), pending);
      else mount(out, verdictLine(false, t('tr_timeline_bad', { reason: v.reason ?? '' }), 'tr-timeline-verdict'), pending);
    } catch (e) {
      mount(out, verdictLine(false, t('tr_timeline_bad', { reason: e instanceof Error ? e.message : String(e) }), 'tr-timeline-verdict'));
    } finally {
      btn.disabled = false;
    }
  };
  const btn = button(t('tr_verify_timeline'), { class: 'btn', 'data-testid': 'tr-verify-timeline', onclick: () => void run() });
  return h(
    'div',
    { class: 'track-verify' },
    btn,
    h('p', { class: 'muted' }, t('tr_timeline_help'), ' ', h('a', { href: '#/transparency' }, t('tr_nav'))),
    out,
  );
}

const STEPS: { key: Key; statuses: string[] }[] = [
  { key: 'step_received', statuses: ['new'] },
  { key: 'step_dispatched', statuses: ['dispatched'] },
  { key: 'step_handling', statuses: ['in_progress', 'return_review'] },
  { key: 'step_done', statuses: ['result_submitted'] },
  { key: 'step_callback', statuses: ['callback_done', 'closed', 'archived'] },
];

function progress(tv: TrackView): HTMLElement {
  let steps: { label: string; state: 'done' | 'current' | 'todo' }[];
  if (['answered', 'special_handled', 'merged'].includes(tv.status)) {
    steps = [
      { label: t('step_received'), state: 'done' },
      { label: statusBadge(tv.status, tv.status_label).textContent ?? tv.status, state: 'done' },
    ];
  } else {
    const at = Math.max(0, STEPS.findIndex((s) => s.statuses.includes(tv.status)));
    const last = at === STEPS.length - 1;
    steps = STEPS.map((s, i) => ({ label: t(s.key), state: i < at || (last && i === at) ? 'done' : i === at ? 'current' : 'todo' }));
  }
  return h(
    'ol',
    { class: 'steps', 'aria-label': t('track_status') },
    steps.map((s) => h('li', { class: `step ${s.state}`, 'aria-current': s.state === 'current' ? 'step' : null }, h('span', { class: 'step-dot', 'aria-hidden': 'true' }), h('span', { class: 'step-label' }, s.label))),
  );
}

export async function trackPage({ root, route, alive }: PageCtx): Promise<void> {
  void loadEnums().then(useServerTimeZone);
  const number = input('number', { value: route.query.get('number') ?? '', autocomplete: 'off', spellcheck: 'false' });
  const code = input('code', { maxlength: 32, autocomplete: 'off', autocapitalize: 'characters', spellcheck: 'false', value: sessionStorage.getItem('jiesu.track.code') ?? '' });
  sessionStorage.removeItem('jiesu.track.code');
  const result = h('div', { class: 'track-result', 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'card track-form', novalidate: true, 'data-testid': 'track-form' },
    h('div', { class: 'track-grid' }, field(t('track_number'), number, { name: 'number', required: true }), field(t('trk_code'), code, { name: 'code', required: true }), h('button', { type: 'submit', class: 'btn primary' }, t('track_button'))),
    h('div', { class: 'form-error' }),
  );

  const rules: Rule[] = [
    required('number', 'fe_number_label', () => number.value),
    { field: 'code', check: () => (/^[0-9A-Za-z\s-]{4,32}$/.test(code.value.trim()) ? null : t('trk_code_shape')) },
  ];
  const run = async () => {
    const n = number.value.trim();
    const p = code.value.trim();
    if (!validate(form, rules)) return;
    try {
      const tv = await api.track(n, p);
      if (!alive()) return;
      if (route.query.get('number') !== n) history.replaceState(null, '', `#/track?number=${encodeURIComponent(n)}`);
      mount(
        result,
        h(
          'section',
          { class: 'card track-card', 'data-testid': 'track-result' },
          h('div', { class: 'track-head' }, h('span', { class: 'ticket-no' }, tv.number), statusBadge(tv.status, tv.status_label)),
          h('h2', null, tv.title),
          h('p', { class: 'muted track-meta' }, h('span', null, pathText(tv.category_path)), h('time', { datetime: tv.created_at }, fmtLocal(tv.created_at))),
          progress(tv),
          timeline(
            [...tv.timeline].reverse().map((e) => ({
              at: e.at,
              kind: e.kind,
              title: eventTitle(e.kind, e.label_zh),
              who: e.unit_name ?? undefined,
              body: e.text ?? undefined,
              tone: ['result_submitted', 'callback_recorded', 'answered_directly'].includes(e.kind) ? 'ok' : '',
            })),
          ),
          verifyBlock(n, p),
        ),
      );
    } catch (e) {
      if (!alive()) return;
      mount(result);
      if (e instanceof ApiError && (e.status === 404 || e.status === 403)) showFieldError(form, undefined, t('trk_not_found'));
      else serverError(form, e, rules);
    }
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void run();
  });

  mount(
    root,
    h('div', { class: 'narrow' }, h('header', { class: 'page-head' }, h('div', null, h('h1', null, t('track_title')), h('p', { class: 'lead' }, t('trk_lead')))), form, result),
  );
  if (number.value && code.value) await run();
  else (number.value ? code : number).focus();
}
