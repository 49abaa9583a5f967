// Agent intake (受理): record the request, then answer it directly, dispatch it, or leave it for
// the dispatchers. Creation and the follow-up action are two API calls; an Idempotency-Key makes
// a double click or a retry create one ticket only.

import { api, ApiError, type CreatedTicket, type TicketView } from '../api';
import { categoryPicker, countedTextarea, pageHeader, placeCascade, radioGroup, radioValue, unitPicker } from '../components';
import { button, clearErrors, field, h, input, mount, randomKey, select, showFieldError, textarea, toast } from '../dom';
import { lang, t } from '../i18n';
import type { PageCtx } from '../page';
import { navigate } from '../router';
import { CHANNELS, enumLabel, enumOptions, loadEnums, TIERS, TYPES } from '../store';
import { fmtTime } from '../format';
import { intakeAssist } from '../assist';
import { riskBanner } from '../risk';

export async function intakePage({ root }: PageCtx): Promise<void> {
  await loadEnums();
  let idemKey = randomKey();

  const form = h('form', { class: 'intake', novalidate: true, 'data-testid': 'intake-form' });
  const channel = select('channel', enumOptions('channels', CHANNELS), { value: 'phone', required: true });
  const typeGroup = radioGroup('type', t('type'), enumOptions('types', TYPES), 'complaint', (v) => {
    if (v === 'consultation') setMode('answer');
  });
  const enterprise = h('input', { type: 'checkbox', name: 'enterprise' });
  const cat = categoryPicker();
  const title = input('title', { maxlength: 200, required: true });
  const { ta: text, counter } = countedTextarea('text', 4000, { rows: 6, required: true });
  const address = input('address', { maxlength: 200 });
  const reqName = input('requester.name', { autocomplete: 'off', required: true });
  const reqPhone = input('requester.phone', { type: 'tel', inputmode: 'tel', autocomplete: 'off', required: true, maxlength: 13 });

  const units = unitPicker();
  const place = placeCascade({ onStreet: (code, name) => units.setSuggestion(code, name), onDistrict: (code) => units.setDistrict(code) });

  const tier = select('tier', TIERS.map((v) => ({ value: v, label: enumOptions('tiers', TIERS).find((o) => o.value === v)?.label ?? v })), {
    placeholder: t('tier_auto'),
  });
  const dispatchNote = input('note', { maxlength: 500 });
  const answer = textarea('answer', { rows: 5, maxlength: 4000 });

  let mode: 'dispatch' | 'answer' | 'later' = 'dispatch';
  const modeBox = h('div', { class: 'mode-body' });
  const submitBtn = h('button', { type: 'submit', class: 'btn primary block', 'data-testid': 'intake-submit' });
  const modeGroup = radioGroup(
    'mode',
    t('section_next'),
    [
      { value: 'dispatch', label: t('mode_dispatch') },
      { value: 'answer', label: t('mode_answer') },
      { value: 'later', label: t('mode_later') },
    ],
    mode,
    (v) => setMode(v as typeof mode),
  );

  function setMode(m: typeof mode) {
    mode = m;
    modeGroup.querySelectorAll<HTMLInputElement>('input[name=mode]').forEach((r) => (r.checked = r.value === m));
    if (m === 'dispatch') {
      mount(
        modeBox,
        field(t('dispatch_units'), units.el, { name: 'assignments', required: true, labelFor: units.input }),
        field(t('tier'), tier, { name: 'tier' }),
        field(t('note'), dispatchNote, { name: 'note' }),
      );
      submitBtn.textContent = t('create_and_dispatch');
    } else if (m === 'answer') {
      mount(modeBox, field(t('answer'), answer, { name: 'answer', hint: t('answer_hint'), required: true }));
      submitBtn.textContent = t('create_and_answer');
    } else {
      mount(modeBox);
      submitBtn.textContent = t('create_ticket');
    }
  }
  setMode('dispatch');

  const result = h('div', { class: 'intake-result', 'aria-live': 'polite' });

  const setType = (v: string) => {
    const r = typeGroup.querySelector<HTMLInputElement>(`input[name=type][value="${v}"]`);
    if (!r) return;
    r.checked = true;
    r.dispatchEvent(new Event('change'));
  };
  const assist = intakeAssist({
    text,
    title,
    onUseArticle: (hit, ans) => {
      setMode('answer');
      answer.value = ans;
      answer.focus();
      toast(t('kb_used_toast', { id: hit.id }));
    },
    onCategory: (code) =>
      void cat.set(code).then((ok) => {
        if (!ok) toast(t('cls_not_leaf'));
      }),
    onType: setType,
    context: () => ({ category_code: cat.value(), ...place.value(), enterprise: enterprise.checked }),
    // the classifier's units join the street in the dispatch picker's one suggestion list
    onUnits: (list) => units.setSuggestions('classify', list),
    onPlace: (sg) =>
      void place.set(sg.district_code, sg.street_code, sg.community_code).then(() => {
        toast(t('stf_place_used', { place: sg.matched }));
        assist.refresh();
      }),
    phone: () => reqPhone.value.trim(),
  });
  place.street.addEventListener('change', () => assist.refresh());

  // 风险推送: while the agent types, the detector says whether to transfer the caller at once
  const riskBox = h('div', { class: 'risk-slot', 'data-testid': 'risk-slot', 'aria-live': 'assertive' });
  let riskTimer: number | undefined;
  let riskSeq = 0;
  const checkRisk = () => {
    window.clearTimeout(riskTimer);
    riskTimer = window.setTimeout(async () => {
      const my = ++riskSeq;
      const body = { title: title.value.trim(), text: text.value.trim() };
      if (!body.title && !body.text) {
        mount(riskBox);
        return;
      }
      try {
        const r = await api.riskCheck(body);
        if (my !== riskSeq) return;
        if (r.risk) mount(riskBox, riskBanner(r.risk));
        else mount(riskBox);
      } catch {
        // the check is a help, never in the way of intake: the ticket is marked when filed
      }
    }, 350);
  };
  text.addEventListener('input', checkRisk);
  title.addEventListener('input', checkRisk);

  mount(
    form,
    riskBox,
    h(
      'div',
      { class: 'intake-main' },
      h(
        'section',
        { class: 'card' },
        h('h2', null, t('section_request')),
        h('div', { class: 'grid2' }, field(t('channel'), channel, { name: 'channel', required: true }), h('div', { class: 'field check' }, h('label', null, enterprise, ' ', t('enterprise')))),
        typeGroup,
        field(t('category'), cat.el, { name: 'category_code', required: true, labelFor: cat.input }),
        field(t('title'), title, { name: 'title', required: true }),
        field(t('text'), text, { name: 'text', required: true }),
      ),
      h(
        'section',
        { class: 'card' },
        h('h2', null, t('section_place')),
        place.el,
        field(t('address'), address, { name: 'address' }),
      ),
      h(
        'section',
        { class: 'card' },
        h('h2', null, t('section_requester')),
        h(
          'div',
          { class: 'grid2' },
          field(t('requester_name'), reqName, { name: 'requester.name', required: true }),
          field(t('requester_phone'), reqPhone, { name: 'requester.phone', required: true }),
        ),
      ),
    ),
    h(
      'aside',
      { class: 'intake-side' },
      // the action first and sticky: the assistant below it scrolls in its own box, so the
      // dispatch card and the submit button stay in view while the assistant is open
      h('section', { class: 'card sticky intake-action', 'data-testid': 'intake-action' }, modeGroup, modeBox, h('div', { class: 'form-error' }), submitBtn, result),
      assist.el,
    ),
  );
  text.after(counter);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const p = place.value();
    const type = radioValue(form, 'type');
    const req = (label: string) => t('required_field', { label });
    const checks: [boolean, string, string][] = [
      [!cat.value(), 'category_code', req(t('category'))],
      [!title.value.trim(), 'title', req(t('title'))],
      [!text.value.trim(), 'text', req(t('text'))],
      [!p.district_code, 'district_code', req(t('district'))],
      [!p.street_code, 'street_code', req(t('street'))],
      [!reqName.value.trim(), 'requester.name', req(t('requester_name'))],
      [!/^[0-9-]{7,13}$/.test(reqPhone.value.trim()), 'requester.phone', t('bad_phone')],
    ];
    const picked = units.value();
    if (mode === 'dispatch') {
      checks.push([picked.length === 0, 'assignments', req(t('dispatch_units'))]);
      checks.push([picked.length > 0 && picked.filter((u) => u.role === 'lead').length !== 1, 'assignments', t('need_lead')]);
    }
    if (mode === 'answer') checks.push([!answer.value.trim(), 'answer', req(t('answer'))]);
    const failed = checks.filter((c) => c[0]);
    if (failed.length) {
      // Shown last-to-first so the focus ends on the first problem.
      for (const [, f, msg] of failed.reverse()) showFieldError(form, f, msg);
      return;
    }
    const body = {
      channel: channel.value,
      type,
      category_code: cat.value(),
      title: title.value.trim(),
      text: text.value.trim(),
      district_code: p.district_code,
      street_code: p.street_code,
      community_code: p.community_code || undefined,
      address: address.value.trim() || undefined,
      requester: { name: reqName.value.trim(), phone: reqPhone.value.trim() },
      enterprise: enterprise.checked || undefined,
    };
    submitBtn.disabled = true;
    let created: CreatedTicket | TicketView | null = null;
    // the citizen's tracking code is in the intake answer only (told to the caller, sent by SMS)
    let code: string | null = null;
    try {
      created = await api.createTicket(body, idemKey);
      code = created.tracking_code ?? null;
      pushed = created as CreatedTicket;
      assist.reportOutcome(created.id);
      if (mode === 'dispatch') {
        created = await api.action(created.id, 'dispatch', {
          assignments: picked.map((u) => ({ unit_code: u.unit_code, role: u.role })),
          tier: tier.value || undefined,
          note: dispatchNote.value.trim() || undefined,
        });
      } else if (mode === 'answer') {
        created = await api.action(created.id, 'answer', { answer: answer.value.trim(), article_id: assist.articleId() || undefined });
      }
      idemKey = randomKey();
      toast(t('created_ok', { number: created.number }));
      showDone(created, null, code);
    } catch (e) {
      const msg = e instanceof ApiError ? e.text(lang()) : String(e);
      if (created) {
        idemKey = randomKey();
        showDone(created, msg, code);
      } else {
        showFieldError(form, e instanceof ApiError ? e.field : undefined, msg);
      }
    } finally {
      submitBtn.disabled = false;
    }
  });

  // the intake answer's risk mark and the alerts it pushed (kept across the follow-up action)
  let pushed: CreatedTicket | null = null;

  function showDone(tk: CreatedTicket | TicketView, error: string | null, code: string | null) {
    const risk = pushed?.risk ?? tk.risk ?? null;
    // 紧急转接: a transfer record per marked number (to whom, why; the service's reply comes back
    // on it), then the domain's special handling (it decides whether the ticket may still take it;
    // a dispatched or answered one may not)
    const numbers = risk?.transfer_to.join(' / ') ?? '';
    const recordBtn =
      risk && !tk.assignments?.length && !tk.answer
        ? button(t('risk_record', { numbers }), {
            class: 'btn',
            'data-testid': 'risk-record-transfer',
            onclick: async () => {
              recordBtn!.disabled = true;
              try {
                const note = t('risk_note', { numbers, kind: lang() === 'zh' ? risk.kind_label : risk.kind_label_en });
                for (const to of risk.transfer_to) await api.action(tk.id, 'transfer', { to, reason: note });
                await api.action(tk.id, 'special', { handling: 'emergency_transfer', note });
                mount(recordSlot, h('strong', { 'data-testid': 'risk-recorded' }, t('risk_recorded')));
                headingEl.textContent = t('risk_recorded');
              } catch (e) {
                recordBtn!.disabled = false;
                toast(e instanceof ApiError ? e.text(lang()) : String(e), 'error');
              }
            },
          })
        : null;
    const recordSlot = h('div', { class: 'risk-record' }, recordBtn);
    const headingEl = h('h2', null);
    const notes = h(
      'div',
      { class: 'risk-pushed' },
      pushed?.risk_alert != null ? h('div', { 'data-testid': 'risk-pushed' }, t('risk_pushed', { id: pushed.risk_alert })) : null,
      pushed?.incident_alert != null ? h('div', { 'data-testid': 'incident-pushed' }, t('risk_incident', { id: pushed.incident_alert })) : null,
      recordBtn ? recordSlot : null,
    );
    const heading = error
      ? t('created_but_failed', { number: tk.number, error })
      : tk.assignments?.length
        ? t('done_dispatched')
        : tk.answer
          ? t('done_answered')
          : t('done_created');
    headingEl.textContent = heading;
    const lines = (tk.assignments ?? []).map((a) =>
      h('li', null, h('strong', null, a.unit_name ?? a.unit_code), ` · ${enumLabel('roles_in_assignment', a.role)} · ${t('dl_finish')} ${fmtTime(a.deadlines?.finish)}`),
    );
    mount(
      root,
      pageHeader(t('intake_title')),
      h(
        'div',
        { class: `card done-card ${error ? 'warn' : ''}`, 'data-testid': 'intake-done' },
        risk ? riskBanner(risk, notes) : pushed?.incident_alert != null ? notes : null,
        h('div', { class: 'done-icon', 'aria-hidden': 'true' }, error ? '!' : '✓'),
        headingEl,
        h('div', { class: 'muted' }, t('ticket_number')),
        h('p', { class: 'big-number', 'data-testid': 'ticket-number' }, tk.number),
        code ? h('div', { class: 'muted' }, t('trk_code_for_caller')) : null,
        code ? h('p', { class: 'big-number tracking-code', 'data-testid': 'tracking-code' }, code) : null,
        lines.length ? h('ul', { class: 'plain done-lines' }, lines) : null,
        h(
          'div',
          { class: 'actions-row center' },
          h('a', { class: 'btn primary', href: `#/tickets/${tk.id}`, 'data-testid': 'open-ticket' }, t('open_ticket')),
          button(t('new_intake'), { class: 'btn', onclick: () => navigate('/intake') }),
        ),
      ),
    );
  }

  mount(root, pageHeader(t('intake_title'), t('intake_lead')), form);
}
