// The public submit page (no log-in): a citizen files a request and gets its number.

import { api, ApiError } from '../api';
import { categoryPicker, countedTextarea, placeCascade, radioGroup, radioValue } from '../components';
import { button, clearErrors, field, h, input, mount, randomKey, showFieldError, toast } from '../dom';
import { lang, t } from '../i18n';
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
  const phone = input('requester.phone', { type: 'tel', inputmode: 'tel', autocomplete: 'tel', maxlength: 13 });
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
      field(t('requester_phone'), phone, { name: 'requester.phone', required: true }),
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

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const p = place.value();
    const req = (label: string) => t('required_field', { label });
    const checks: [boolean, string, string][] = [
      [!cat.value(), 'category_code', req(t('category'))],
      [!p.district_code, 'district_code', req(t('district'))],
      [!p.street_code, 'street_code', req(t('street'))],
      [!title.value.trim(), 'title', req(t('title'))],
      [!text.value.trim(), 'text', req(t('text'))],
      [!name.value.trim(), 'requester.name', req(t('requester_name'))],
      [!/^[0-9-]{7,13}$/.test(phone.value.trim()), 'requester.phone', t('bad_phone')],
    ];
    const failed = checks.filter((c) => c[0]);
    if (failed.length) {
      for (const [, f, msg] of failed.reverse()) showFieldError(form, f, msg);
      return;
    }
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
          requester: { name: name.value.trim(), phone: phone.value.trim() },
        },
        idemKey,
      );
      idemKey = randomKey();
      reportHandover(draft, res.number);
      draft = null;
      showDone(res.number, phone.value.trim().slice(-4));
    } catch (e) {
      showFieldError(form, e instanceof ApiError ? e.field : undefined, e instanceof ApiError ? e.text(lang()) : String(e));
    } finally {
      submitBtn.disabled = false;
    }
  });

  function showDone(number: string, last4: string) {
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
          h('p', null, t('submit_ok_text')),
          h('div', { class: 'muted' }, t('your_number')),
          h('p', { class: 'big-number', 'data-testid': 'public-number' }, number),
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
                sessionStorage.setItem('jiesu.track.last4', last4);
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
