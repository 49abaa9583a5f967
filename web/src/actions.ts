// The action forms of a ticket. The server says which actions the caller may take now
// (`allowed_actions`); only those are shown. Each posts to POST /api/v1/tickets/{id}/{action}
// and hands the returned TicketView back to the page.

import { api, ApiError, type AssignmentView, type TicketView } from './api';
import { categoryPicker, countedTextarea, radioGroup, radioValue, unitPicker } from './components';
import { button, clearErrors, field, h, input, mount, select, showFieldError, textarea, toast, type Child } from './dom';
import { fmtTime, fromLocalInput, toLocalInput } from './format';
import { lang, t } from './i18n';
import { actionInfo, enumLabel, enumOptions, TIERS, TYPES, unitName } from './store';
import { evidencePicker, EvidenceError } from './evidence';
import { sameAssignments, suggestionBox, type Proposal } from './suggest';

type Done = (tk: TicketView) => void;

/** Display order of actions: the day-to-day ones first (others follow in the server's order). */
const ORDER = [
  'sign',
  'respond',
  'result',
  'note',
  'dispatch',
  'answer',
  'callback',
  'review-return',
  'review-extension',
  'return',
  'extend',
  'whistle',
  'report',
  'escalate',
  'urge',
  'pause',
  'resume',
  'consult',
  'special',
  'reopen',
  'merge',
  'unmerge',
  'exempt',
  'reclassify',
  'close',
  'archive',
];
/** The action that is the natural next step, highlighted when allowed (first match wins). */
const PRIMARY = ['sign', 'respond', 'result', 'dispatch', 'callback', 'review-return', 'review-extension', 'report', 'close', 'archive'];
/** Actions done with one click (after a confirmation for the irreversible ones). */
const ONE_CLICK: Record<string, boolean> = { sign: false, report: false, resume: false, archive: true };

/** An action's label in the UI language, from the server's action table (GET /api/v1/actions). */
export function actionLabel(a: string): string {
  const info = actionInfo(a);
  if (!info) return a;
  return lang() === 'zh' ? info.label_zh : info.label_en;
}

function errorText(e: unknown): string {
  return e instanceof ApiError ? e.text(lang()) : String(e);
}

/**
 * A form for one action: `fields` are shown, `build` turns them into the request body (or returns
 * null after showing a validation error), the result goes to `done`.
 */
function actionForm(
  tk: TicketView,
  action: string,
  fields: Child[],
  build: (form: HTMLFormElement) => unknown | null | Promise<unknown | null>,
  done: Done,
  submitLabel?: string,
): HTMLFormElement {
  const submit = h('button', { type: 'submit', class: 'btn primary' }, submitLabel ?? actionLabel(action));
  const form = h('form', { class: 'action-form', 'data-action': action, novalidate: true }, fields, h('div', { class: 'form-error' }), h('div', { class: 'actions-row' }, submit));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    submit.disabled = true;
    try {
      // a build may have work to do first (the result form uploads its evidence)
      const body = await build(form);
      if (body === null) return;
      const res = await api.action(tk.id, action, body);
      toast(t('action_done', { action: actionLabel(action) }));
      done(res);
    } catch (e) {
      // an evidence upload that failed has said so at its field already
      if (!(e instanceof EvidenceError)) showFieldError(form, e instanceof ApiError ? e.field : undefined, errorText(e));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

/** Shows a validation error and returns null (so `build` can `return fail(...)`). */
function fail(form: HTMLFormElement, name: string, message: string): null {
  showFieldError(form, name, message);
  return null;
}

function required(form: HTMLFormElement, name: string, value: string, label: string): boolean {
  if (value.trim()) return true;
  showFieldError(form, name, t('required_field', { label }));
  return false;
}

function pendingLine(a: AssignmentView, kind: 'return' | 'extension'): Child {
  if (kind === 'return' && a.pending_return) {
    return [h('strong', null, a.unit_name ?? a.unit_code), ' — ', t('pending_return', { reason: enumLabel('return_reasons', a.pending_return.reason) }), h('div', { class: 'quote' }, a.pending_return.text)];
  }
  if (kind === 'extension' && a.pending_extension) {
    return [h('strong', null, a.unit_name ?? a.unit_code), ' — ', t('pending_extension', { until: fmtTime(a.pending_extension.until) }), h('div', { class: 'quote' }, a.pending_extension.reason)];
  }
  return null;
}

/** One transfer (转接) to an emergency service, as the ticket view carries it. */
export type TransferView = NonNullable<TicketView['transfers']>[number];

/** The form of one action, or null if it needs none (one-click actions). */
function formFor(tk: TicketView, action: string, done: Done): HTMLElement | null {
  switch (action) {
    case 'dispatch':
      return dispatchForm(tk, done);
    case 'answer': {
      const { ta, counter } = countedTextarea('answer', 4000, { rows: 5 });
      return actionForm(tk, action, [field(t('answer'), ta, { name: 'answer', required: true, hint: t('answer_hint') }), counter], (f) => (required(f, 'answer', ta.value, t('answer')) ? { answer: ta.value.trim() } : null), done);
    }
    case 'special': {
      const handling = select('handling', enumOptions('special_handlings', ['emergency_transfer', 'legal_route', 'private_or_secret', 'persuade']), { placeholder: t('choose') });
      const note = textarea('note', { rows: 3 });
      return actionForm(
        tk,
        action,
        [field(t('f_handling'), handling, { name: 'handling', required: true }), field(t('note'), note, { name: 'note', required: true })],
        (f) => (required(f, 'handling', handling.value, t('f_handling')) && required(f, 'note', note.value, t('note')) ? { handling: handling.value, note: note.value.trim() } : null),
        done,
      );
    }
    case 'respond': {
      const note = input('note', { maxlength: 500 });
      return actionForm(tk, action, [field(t('f_respond_note'), note, { name: 'note', hint: t('optional') })], () => ({ note: note.value.trim() || undefined }), done);
    }
    case 'note': {
      const { ta, counter } = countedTextarea('text', 4000, { rows: 3 });
      const pub = h('input', { type: 'checkbox', name: 'public' });
      return actionForm(
        tk,
        action,
        [field(t('f_note_text'), ta, { name: 'text', required: true }), counter, h('label', { class: 'check' }, pub, ' ', t('f_public'))],
        (f) => (required(f, 'text', ta.value, t('f_note_text')) ? { text: ta.value.trim(), public: pub.checked } : null),
        done,
      );
    }
    case 'whistle': {
      const units = unitPicker({ withRoles: false, district: tk.place?.district_code });
      const reason = textarea('reason', { rows: 3 });
      const minutes = input('report_minutes', { type: 'number', min: 10, step: 10, value: 120 });
      return actionForm(
        tk,
        action,
        [field(t('f_whistle_units'), units.el, { name: 'units', required: true, labelFor: units.input }), field(t('f_reason'), reason, { name: 'reason', required: true }), field(t('f_report_minutes'), minutes, { name: 'report_minutes' })],
        (f) => {
          const us = units.value();
          if (!us.length) return fail(f, 'units', t('required_field', { label: t('f_whistle_units') }));
          if (!required(f, 'reason', reason.value, t('f_reason'))) return null;
          return { units: us.map((u) => u.unit_code), reason: reason.value.trim(), report_minutes: minutes.value ? Number(minutes.value) : undefined };
        },
        done,
      );
    }
    case 'return': {
      const reason = select('reason', enumOptions('return_reasons', ['not_our_duty', 'outside_area', 'missing_information', 'wrong_level', 'other']), { placeholder: t('choose') });
      const text = textarea('text', { rows: 3 });
      return actionForm(
        tk,
        action,
        [field(t('f_return_reason'), reason, { name: 'reason', required: true }), field(t('f_return_text'), text, { name: 'text', required: true })],
        (f) => (required(f, 'reason', reason.value, t('f_return_reason')) && required(f, 'text', text.value, t('f_return_text')) ? { reason: reason.value, text: text.value.trim() } : null),
        done,
      );
    }
    case 'review-return':
    case 'review-extension': {
      const kind = action === 'review-return' ? 'return' : 'extension';
      const pending = tk.assignments.filter((a) => (kind === 'return' ? a.pending_return : a.pending_extension));
      const list = pending.length ? pending : tk.assignments.filter((a) => a.role === 'lead');
      return h(
        'div',
        { class: 'stack' },
        list.map((a) => {
          const decision = radioGroup(
            'approve',
            t('f_decision'),
            [
              { value: 'true', label: t('f_approve') },
              { value: 'false', label: t('f_reject') },
            ],
            '',
          );
          const note = input('note', { maxlength: 500 });
          return actionForm(
            tk,
            action,
            [h('div', { class: 'pending' }, pendingLine(a, kind)), decision, field(t('note'), note, { name: 'note' })],
            (f) => {
              const v = radioValue(f, 'approve');
              if (!v) return fail(f, 'approve', t('required_field', { label: t('f_decision') }));
              return { unit_code: a.unit_code, approve: v === 'true', note: note.value.trim() || undefined };
            },
            done,
          );
        }),
      );
    }
    case 'extend': {
      const lead = tk.assignments.find((a) => a.role === 'lead' && ['dispatched', 'signed', 'responded'].includes(a.state));
      const base = lead ? new Date(lead.deadlines.finish) : new Date();
      const until = input('until', { type: 'datetime-local', value: toLocalInput(new Date(base.getTime() + 3 * 86400_000)) });
      const reason = textarea('reason', { rows: 3 });
      return actionForm(
        tk,
        action,
        [field(t('f_until'), until, { name: 'until', required: true }), field(t('f_reason'), reason, { name: 'reason', required: true })],
        (f) => (required(f, 'until', until.value, t('f_until')) && required(f, 'reason', reason.value, t('f_reason')) ? { until: fromLocalInput(until.value), reason: reason.value.trim() } : null),
        done,
      );
    }
    case 'consult': {
      // 派单会商: a hard case is discussed with the units concerned before anyone is dispatched
      const units = unitPicker({ withRoles: false, district: tk.place?.district_code, name: 'consult_units' });
      const note = textarea('note', { rows: 3 });
      return actionForm(
        tk,
        action,
        [field(t('f_consult_note'), note, { name: 'note', required: true }), field(t('f_consult_units'), units.el, { name: 'units', hint: t('optional'), labelFor: units.input })],
        (f) => (required(f, 'note', note.value, t('f_consult_note')) ? { note: note.value.trim(), units: units.value().map((u) => u.unit_code) } : null),
        done,
      );
    }
    case 'pause': {
      // 暂停计时: the clocks stop while the unit waits for the citizen (e.g. an agreed visit date)
      const reason = textarea('text', { rows: 3 });
      return actionForm(
        tk,
        action,
        [h('p', { class: 'muted small' }, t('f_pause_hint')), field(t('f_pause_reason'), reason, { name: 'text', required: true })],
        (f) => (required(f, 'text', reason.value, t('f_pause_reason')) ? { text: reason.value.trim() } : null),
        done,
      );
    }
    case 'urge': {
      // 督办催办: the note reaches the unit's inbox
      const note = input('note', { maxlength: 500, value: t('f_urge_default') });
      return actionForm(tk, action, [field(t('f_urge_note'), note, { name: 'note', required: true })], (f) => (required(f, 'note', note.value, t('f_urge_note')) ? { note: note.value.trim() } : null), done);
    }
    case 'escalate': {
      const level = select('level', enumOptions('escalation_levels', ['district', 'city', 'industry']), { placeholder: t('choose') });
      const units = unitPicker({ withRoles: false, name: 'to_unit_search' });
      const reason = textarea('reason', { rows: 3 });
      return actionForm(
        tk,
        action,
        [field(t('f_level'), level, { name: 'level', required: true }), field(t('f_to_unit'), units.el, { name: 'to_unit', hint: t('optional'), labelFor: units.input }), field(t('f_reason'), reason, { name: 'reason', required: true })],
        (f) => {
          if (!required(f, 'level', level.value, t('f_level')) || !required(f, 'reason', reason.value, t('f_reason'))) return null;
          return { level: level.value, to_unit: units.value()[0]?.unit_code, reason: reason.value.trim() };
        },
        done,
      );
    }
    case 'result': {
      // 办结反馈: what was done, with photos or PDF files as evidence (uploaded first, sent as ids)
      const { ta, counter } = countedTextarea('text', 4000, { rows: 5 });
      const evidence = evidencePicker(tk.id);
      const progress = h('div', { class: 'muted small', role: 'status', 'data-testid': 'evidence-progress' });
      return actionForm(
        tk,
        action,
        [field(t('f_result_text'), ta, { name: 'text', required: true }), counter, evidence.el, progress],
        async (f) => {
          if (!required(f, 'text', ta.value, t('f_result_text'))) return null;
          const ids = await evidence.upload((n, total) => mount(progress, total ? t('evi_progress', { n, total }) : ''));
          mount(progress, ids.length ? t('evi_attached', { n: ids.length }) : '');
          return { text: ta.value.trim(), evidence: ids };
        },
        done,
      );
    }
    case 'callback':
      return callbackForm(tk, done);
    case 'reopen': {
      const reason = textarea('reason', { rows: 3 });
      return actionForm(tk, action, [field(t('f_reopen_reason'), reason, { name: 'reason', required: true })], (f) => (required(f, 'reason', reason.value, t('f_reopen_reason')) ? { reason: reason.value.trim() } : null), done);
    }
    case 'merge': {
      const into = input('into', { maxlength: 40 });
      return actionForm(tk, action, [field(t('f_merge_into'), into, { name: 'into', required: true })], (f) => (required(f, 'into', into.value, t('f_merge_into')) ? { into: into.value.trim() } : null), done);
    }
    case 'unmerge': {
      const note = input('note', { maxlength: 500 });
      return actionForm(tk, action, [field(t('f_unmerge_note'), note, { name: 'note', hint: t('optional') })], () => ({ note: note.value.trim() || undefined }), done);
    }
    case 'exempt': {
      const reason = select('reason', enumOptions('exempt_reasons', ['unreasonable', 'unmanaged_estate', 'duplicate_merged', 'emergency_transfer', 'other_policy']), { placeholder: t('choose') });
      const note = textarea('note', { rows: 3 });
      return actionForm(
        tk,
        action,
        [field(t('f_exempt_reason'), reason, { name: 'reason' }), field(t('f_exempt_note'), note, { name: 'note', required: true })],
        (f) => (required(f, 'note', note.value, t('f_exempt_note')) ? { reason: reason.value || undefined, note: note.value.trim() } : null),
        done,
      );
    }
    case 'reclassify': {
      // 改类: the correct category and type, and why (a labelled example for training)
      const cat = categoryPicker({ value: tk.category_code });
      const type = select('type', enumOptions('types', TYPES), { value: tk.type });
      const reason = textarea('reason', { rows: 2, maxlength: 500 });
      return actionForm(
        tk,
        action,
        [
          field(t('f_reclassify_category'), cat.el, { name: 'category_code', labelFor: cat.input }),
          field(t('f_reclassify_type'), type, { name: 'type' }),
          field(t('f_reclassify_reason'), reason, { name: 'reason', required: true, hint: t('f_reclassify_hint') }),
        ],
        (f) => (required(f, 'reason', reason.value, t('f_reclassify_reason')) ? { category_code: cat.value() || undefined, type: type.value, reason: reason.value.trim() } : null),
        done,
      );
    }
    case 'transfer': {
      // 转接: to whom and why (who and when are recorded); the risk mark's numbers come first
      const services = ['110', '119', '120', '122'];
      const pending = (tk.transfers_pending ?? []) as string[];
      const to = select('to', enumOptions('emergency_services', services), { value: pending[0] ?? '', placeholder: t('choose') });
      const reason = textarea('reason', { rows: 3, maxlength: 2000 });
      if (tk.risk) reason.value = tk.title;
      return actionForm(
        tk,
        action,
        [
          pending.length ? h('p', { class: 'hint', 'data-testid': 'transfer-marked' }, t('transfer_marked', { numbers: pending.join('、') })) : null,
          field(t('f_transfer_to'), to, { name: 'to', required: true }),
          field(t('f_transfer_reason'), reason, { name: 'reason', required: true }),
        ],
        (f) => (required(f, 'to', to.value, t('f_transfer_to')) && required(f, 'reason', reason.value, t('f_transfer_reason')) ? { to: to.value, reason: reason.value.trim() } : null),
        done,
      );
    }
    case 'transfer-reply': {
      // 转接回复: the service's answer as the agent heard it (the 110 linkage sends its own)
      const open = ((tk.transfers ?? []) as TransferView[]).filter((x) => !x.replies.some((r) => r.outcome === 'declined' || r.outcome === 'handled'));
      const to = select(
        'to',
        open.map((x) => ({ value: x.to, label: enumLabel('emergency_services', x.to) })),
        { value: open[0]?.to ?? '' },
      );
      const outcome = radioGroup('outcome', t('f_transfer_outcome'), enumOptions('transfer_outcomes', ['accepted', 'declined', 'handled']), '');
      const text = textarea('text', { rows: 3, maxlength: 2000 });
      const reference = input('reference', { maxlength: 100 });
      return actionForm(
        tk,
        action,
        [field(t('f_transfer_to'), to, { name: 'to', required: true }), outcome, field(t('f_transfer_text'), text, { name: 'text', required: true }), field(t('f_transfer_reference'), reference, { name: 'reference', hint: t('optional') })],
        (f) => {
          const o = radioValue(f, 'outcome');
          if (!o) return fail(f, 'outcome', t('required_field', { label: t('f_transfer_outcome') }));
          if (!required(f, 'text', text.value, t('f_transfer_text'))) return null;
          return { to: to.value, outcome: o, text: text.value.trim(), reference: reference.value.trim() || undefined };
        },
        done,
      );
    }
    case 'close': {
      const note = input('note', { maxlength: 500 });
      return actionForm(tk, action, [field(t('f_close_note'), note, { name: 'note', hint: t('optional') })], () => ({ note: note.value.trim() || undefined }), done);
    }
    default:
      return null;
  }
}

/**
 * The dispatch form: the engine's suggestion on top (one click dispatches it, with its rule id),
 * then the manual unit picker. A manual dispatch that equals a proposal still sends its rule.
 */
function dispatchForm(tk: TicketView, done: Done): HTMLElement {
  const units = unitPicker({ district: tk.place?.district_code });
  if (tk.place?.street_code) units.setSuggestion(tk.place.street_code, tk.place.street_name ?? tk.place.street_code);
  const tier = select('tier', enumOptions('tiers', TIERS), { placeholder: t('tier_auto'), value: tk.tier ?? '' });
  const note = input('note', { maxlength: 500 });
  // proposals the dispatcher may have taken over into the picker, to keep their rule id
  const proposals: Proposal[] = [];
  const ruleOf = (picked: { unit_code: string; role: string }[]) => proposals.find((p) => sameAssignments(p.assignments, picked))?.rule_id;
  let form: HTMLFormElement;
  const sg = suggestionBox(
    tk,
    {
      dispatch: async (p, btn) => {
        clearErrors(form);
        btn.disabled = true;
        try {
          const res = await api.action(tk.id, 'dispatch', {
            assignments: p.assignments.map((a) => ({ unit_code: a.unit_code, role: a.role })),
            tier: tier.value || p.tier || undefined,
            note: note.value.trim() || undefined,
            rule: p.rule_id,
          });
          toast(t('action_done', { action: t('sg_dispatch') }));
          done(res);
        } catch (e) {
          showFieldError(form, e instanceof ApiError ? e.field : undefined, errorText(e));
        } finally {
          btn.disabled = false;
        }
      },
      edit: (p) => {
        proposals.push(p);
        units.set(p.assignments.map((a) => ({ unit_code: a.unit_code, name: a.unit_name || unitName(a.unit_code), role: a.role })));
        if (p.tier && !tier.value) tier.value = p.tier;
        units.el.scrollIntoView({ block: 'nearest' });
      },
    },
    (s) => {
      // the street that returned the ticket is no longer a sensible one-click choice
      if (tk.place?.street_code && (s.returned_units ?? []).includes(tk.place.street_code)) units.setSuggestion('', '');
      // the rule's units head the picker's one suggestion list, before the street (属地直派)
      const returned = s.returned_units ?? [];
      const inForce = returned.length ? s.next : s.rule_id ? { rule_id: s.rule_id, assignments: s.assignments } : null;
      units.setSuggestions(
        'route',
        (inForce?.assignments ?? [])
          .filter((a) => !returned.includes(a.unit_code))
          .map((a) => ({ code: a.unit_code, name: a.unit_name || unitName(a.unit_code), source: 'rule' as const, why: t('cls_src_rule', { rule: inForce?.rule_id ?? '' }) })),
      );
      if (s.rule_id) proposals.push({ rule_id: s.rule_id, assignments: s.assignments, tier: s.tier });
      if (s.next) proposals.push({ rule_id: s.next.rule_id, assignments: s.next.assignments, tier: s.next.tier });
      for (const a of s.runner_ups ?? []) proposals.push({ rule_id: a.rule_id, assignments: a.assignments, tier: a.tier });
    },
  );
  form = actionForm(
    tk,
    'dispatch',
    [
      sg,
      h('div', { class: 'manual-head' }, h('span', null, t('sg_manual'))),
      field(t('dispatch_units'), units.el, { name: 'assignments', required: true, labelFor: units.input }),
      h('div', { class: 'grid2' }, field(t('tier'), tier, { name: 'tier' }), field(t('note'), note, { name: 'note' })),
    ],
    (f) => {
      const picked = units.value();
      if (!picked.length) return fail(f, 'assignments', t('required_field', { label: t('dispatch_units') }));
      if (picked.filter((p) => p.role === 'lead').length !== 1) return fail(f, 'assignments', t('need_lead'));
      const assignments = picked.map((p) => ({ unit_code: p.unit_code, role: p.role }));
      return { assignments, tier: tier.value || undefined, note: note.value.trim() || undefined, rule: ruleOf(assignments) };
    },
    done,
  );
  return form;
}

/** The callback (回访) script: greeting, then the four questions — or "not reached". */
export function callbackForm(tk: TicketView, done: Done): HTMLElement {
  // The unit whose result is called back (never one that returned the ticket), and its assistants.
  const resultUnit = tk.result_unit?.name ?? tk.result_unit?.code ?? '—';
  const assisting = (tk.assisting_units ?? []).map((u) => u.name ?? u.code);
  const reached = radioGroup(
    'reached',
    t('cb_call_outcome'),
    [
      { value: 'yes', label: t('cb_reached') },
      { value: 'no', label: t('cb_not_reached') },
    ],
    'yes',
    (v) => {
      reachedBox.hidden = v !== 'yes';
      unreachBox.hidden = v === 'yes';
    },
  );
  const yesNo = [
    { value: 'true', label: t('yes') },
    { value: 'false', label: t('no') },
  ];
  const reachedBox = h(
    'div',
    { class: 'stack' },
    radioGroup('contacted', t('cb_contacted'), yesNo, ''),
    radioGroup('resolution', t('cb_resolution'), enumOptions('resolutions', ['resolved', 'partly', 'unresolved']), ''),
    radioGroup('satisfaction', t('cb_satisfaction'), enumOptions('satisfactions', ['satisfied', 'basic', 'unsatisfied']), ''),
    radioGroup('attitude', t('cb_attitude'), enumOptions('attitudes', ['good', 'fair', 'poor']), ''),
    field(t('cb_comment'), textarea('comment', { rows: 3, maxlength: 2000 }), { name: 'comment' }),
  );
  const unreachNote = input('note', { maxlength: 500 });
  const unreachBox = h('div', { hidden: true }, field(t('cb_unreachable_note'), unreachNote, { name: 'note' }));
  const script = h(
    'div',
    { class: 'script' },
    h('div', { class: 'script-phone' }, h('span', { class: 'muted' }, t('call_phone')), ' ', h('strong', { 'data-testid': 'callback-phone' }, tk.requester.phone), ' ', tk.requester.name),
    h(
      'p',
      { class: 'script-greeting' },
      t('cb_greeting', { date: fmtTime(tk.created_at).slice(0, 10), title: tk.title, unit: resultUnit }),
    ),
    assisting.length ? h('p', { class: 'script-assist', 'data-testid': 'callback-assisting' }, t('cb_assisting', { units: assisting.join('、') })) : null,
  );
  return actionForm(
    tk,
    'callback',
    [script, reached, reachedBox, unreachBox],
    (f) => {
      if (radioValue(f, 'reached') === 'no') return { unreachable: true, note: unreachNote.value.trim() || undefined };
      const need: [string, string][] = [
        ['contacted', t('cb_contacted')],
        ['resolution', t('cb_resolution')],
        ['satisfaction', t('cb_satisfaction')],
      ];
      for (const [n, label] of need) {
        if (!radioValue(f, n)) return fail(f, n, t('required_field', { label }));
      }
      const comment = (f.querySelector('textarea[name=comment]') as HTMLTextAreaElement).value.trim();
      return {
        contacted: radioValue(f, 'contacted') === 'true',
        resolution: radioValue(f, 'resolution'),
        satisfaction: radioValue(f, 'satisfaction'),
        attitude: radioValue(f, 'attitude') || undefined,
        comment: comment || undefined,
      };
    },
    done,
    t('cb_save'),
  );
}

/** The panel of allowed actions: a button per action; the chosen action's form opens below. */
export function actionsPanel(tk: TicketView, done: Done): HTMLElement {
  const allowed = [...(tk.allowed_actions ?? [])].sort((a, b) => {
    const ia = ORDER.indexOf(a);
    const ib = ORDER.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
  });
  const panel = h('section', { class: 'card actions-card', 'aria-labelledby': 'actions-title', 'data-testid': 'actions' });
  const formBox = h('div', { class: 'action-form-box' });
  if (!allowed.length) {
    mount(panel, h('h2', { id: 'actions-title' }, t('actions')), h('p', { class: 'muted' }, t('no_actions')));
    return panel;
  }
  let open: string | null = null;
  const primary = PRIMARY.find((p) => allowed.includes(p));
  const buttons = allowed.map((a) => {
    const b = button(actionLabel(a), {
      class: `btn ${a === primary ? 'primary' : ''}`,
      'data-action-button': a,
      'aria-expanded': a in ONE_CLICK ? null : 'false',
      onclick: async () => {
        if (a in ONE_CLICK) {
          if (ONE_CLICK[a] && !confirm(t('confirm_action', { action: actionLabel(a) }))) return;
          b.disabled = true;
          try {
            const res = await api.action(tk.id, a, {});
            toast(t('action_done', { action: actionLabel(a) }));
            done(res);
          } catch (e) {
            toast(errorText(e), 'error');
          } finally {
            b.disabled = false;
          }
          return;
        }
        const same = open === a;
        open = same ? null : a;
        buttons.forEach((x) => x.setAttribute('aria-expanded', String(x === b && !same)));
        buttons.forEach((x) => x.classList.toggle('pressed', x === b && !same));
        if (same) return void formBox.replaceChildren();
        const f = formFor(tk, a, done);
        if (f) {
          mount(formBox, h('h3', null, actionLabel(a)), f);
          // (the dispatch form starts with the suggestion: focusing the unit search would open its list over it)
          if (a !== 'dispatch') (f.querySelector('input:not([type=radio]):not([type=checkbox]),textarea,select') as HTMLElement | null)?.focus();
        } else {
          // Unknown to this UI: post an empty body.
          mount(formBox, actionForm(tk, a, [], () => ({}), done));
        }
      },
    });
    return b;
  });
  mount(panel, h('h2', { id: 'actions-title' }, t('actions')), h('div', { class: 'action-buttons' }, buttons), formBox);
  // The callback script is the whole point of the callback agent's visit: open it at once.
  if (allowed.includes('callback')) buttons[allowed.indexOf('callback')].click();
  // a pending return (or extension) is the reviewer's business here: open its form
  else if (allowed.includes('review-return')) buttons[allowed.indexOf('review-return')].click();
  else if (allowed.includes('review-extension')) buttons[allowed.indexOf('review-extension')].click();
  // the citizen said 未解决 in the last callback: the reviewer is here to decide on 重办
  else if (allowed.includes('reopen') && tk.callbacks?.[tk.callbacks.length - 1]?.outcome.resolution === 'unresolved')
    buttons[allowed.indexOf('reopen')].click();
  // a ticket waiting for (re-)dispatch: open the dispatch form with the engine's suggestion
  else if (allowed.includes('dispatch') && !allowed.includes('review-return') && !tk.assignments.some((a) => ['dispatched', 'signed', 'responded'].includes(a.state)))
    buttons[allowed.indexOf('dispatch')].click();
  return panel;
}
