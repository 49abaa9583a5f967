// The public submit page (no log-in): a citizen files a request and gets its number.

import { api } from '../api';
import { chosen, phone, required, serverError, validate, type Rule } from '../forms';
import { categoryPicker, countedTextarea, placeCascade, radioGroup, radioValue } from '../components';
import { button, field, h, input, mount, randomKey, toast } from '../dom';
import { t } from '../i18n';
import type { PageCtx } from '../page';
import { navigate } from '../router';
import { enumOptions, loadEnums, TYPES } from '../store';
import { HANDOVER_KEY, reportHandover, type Handover } from './ask';

export async function submitPage({ root }: PageCtx): Promise<void> {
  await loadEnums();
  let idemKey = randomKey();
  // a hand-over from the virtual agent (#/ask): its draft pre-fills the form, once
  let draft: Handover | null = null;
  try {
    draft = JSON.parse(sessionStorage.getItem(HANDOVER_KEY) ?? 'null') as Handover | null;
  } catch {
    draft = null;
  }
  sessionStorage.removeItem(HANDOVER_KEY);
  const typeGroup = radioGroup('type', t('type'), enumOptions('types', TYPES), 'complaint');
  const cat = categoryPicker({ value: draft?.category_code ?? undefined });
  const place = placeCascade();
  const address = input('address', { maxlength: 200, autocomplete: 'street-address' });
  const title = input('title', { maxlength: 200 });
  const { ta: text, counter } = countedTextarea('text', 4000, { rows: 6 });
  const name = input('requester.name', { autocomplete: 'name', maxlength: 50 });
  const phoneInput = input('requester.phone', { type: 'tel', inputmode: 'tel', autocomplete: 'tel', maxlength: 13 });
  const submitBtn = h('button', { type: 'submit', class: 'btn primary block', 'data-testid': 'public-submit' }, t('submit_button'));

  const form = h(
    'form',
    { class: 'card public-form', novalidate: true, 'data-testid': 'public-form' },
    typeGroup,
    field(t('category'), cat.el, { name: 'category_code', required: true, labelFor: cat.input }),
    place.el,
    field(t('address'), address, { name: 'address' }),
    field(t('title'), title, { name: 'title', required: true }),
    field(t('text'), text, { name: 'text', required: true }),
    h(
      'div',
      { class: 'grid2' },
      field(t('requester_name'), name, { name: 'requester.name', required: true }),
      field(t('requester_phone'), phoneInput, { name: 'requester.phone', required: true }),
    ),
    h('p', { class: 'hint' }, t('privacy_note')),
    h('div', { class: 'form-error' }),
    submitBtn,
  );
  text.after(counter);
  if (draft?.text) {
    text.value = draft.text;
    text.dispatchEvent(new Event('input'));
    title.value = [...draft.text.replace(/\s+/g, ' ').trim()].slice(0, 30).join('');
  }

  const rules: Rule[] = [
    chosen('category_code', 'fe_category_label', () => cat.value()),
    chosen('district_code', 'fe_district_label', () => place.value().district_code),
    chosen('street_code', 'fe_street_label', () => place.value().street_code),
    required('title', 'fe_title_label', () => title.value),
    required('text', 'fe_text_label', () => text.value),
    required('requester.name', 'fe_name_label', () => name.value),
    phone('requester.phone', () => phoneInput.value),
  ];
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const p = place.value();
    if (!validate(form, rules)) return;
    submitBtn.disabled = true;
    try {
      const res = await api.publicSubmit(
        {
          type: radioValue(form, 'type'),
          category_code: cat.value(),
          title: title.value.trim(),
          text: text.value.trim(),
          district_code: p.district_code,
          street_code: p.street_code,
          community_code: p.community_code || undefined,
          address: address.value.trim() || undefined,
          requester: { name: name.value.trim(), phone: phoneInput.value.trim() },
        },
        idemKey,
      );
      idemKey = randomKey();
      reportHandover(draft, res.number);
      draft = null;
      showDone(res.number, res.tracking_code ?? '');
    } catch (e) {
      serverError(form, e, rules);
    } finally {
      submitBtn.disabled = false;
    }
  });

  function showDone(number: string, code: string) {
    mount(
      root,
      h(
        'div',
        { class: 'narrow' },
        h(
          'section',
          { class: 'card done-card', 'data-testid': 'submit-done' },
          h('div', { class: 'done-icon', 'aria-hidden': 'true' }, '✓'),
          h('h1', null, t('submit_ok_title')),
          h('p', null, t('trk_submit_ok_text')),
          h('div', { class: 'muted' }, t('your_number')),
          h('p', { class: 'big-number', 'data-testid': 'public-number' }, number),
          h('div', { class: 'muted' }, t('trk_your_code')),
          h('p', { class: 'big-number tracking-code', 'data-testid': 'public-code' }, code),
          h('p', { class: 'muted' }, t('trk_keep_code')),
          h(
            'div',
            { class: 'actions-row center' },
            button(t('copy'), {
              class: 'btn',
              onclick: async () => {
                try {
                  await navigator.clipboard.writeText(number);
                  toast(t('copied'));
                } catch {
                  /* clipboard unavailable (insecure context): the number is on screen */
                }
              },
            }),
            button(t('track_this'), {
              class: 'btn primary',
              onclick: () => {
                sessionStorage.setItem('jiesu.track.code', code);
                navigate(`/track?number=${encodeURIComponent(number)}`);
              },
            }),
            button(t('submit_another'), { class: 'btn ghost', onclick: () => navigate('/submit') }),
          ),
        ),
      ),
    );
  }

  mount(root, h('div', { class: 'narrow' }, h('header', { class: 'page-head' }, h('div', null, h('h1', null, t('submit_title')), h('p', { class: 'lead' }, t('submit_lead')))), form));
}
