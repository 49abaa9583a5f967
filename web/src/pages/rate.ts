// The citizen's self-rating page (自助评价, public, no log-in): reached through the one-time link the
// callback desk sends (`#/rate/{token}`). Shows the request and its result (no personal data), asks
// the callback script's three questions, and posts the answers as the round's callback.

import { ApiError } from '../api';
import { cbApi, type RateInfo } from '../callback-api';
import { errorBlock, loadingBlock, pageHeader, radioGroup, radioValue } from '../components';
import { field, h, mount, textarea } from '../dom';
import { serverError, validate, type Rule } from '../forms';
import { lang, t } from '../i18n';
import type { PageCtx } from '../page';
import { href } from '../router';
import { enumOptions, loadEnums } from '../store';

export async function ratePage({ root, route, alive }: PageCtx): Promise<void> {
  const token = route.parts[1] ?? '';
  mount(root, pageHeader(t('rate_title'), t('rate_lead')), loadingBlock());
  let info: RateInfo;
  try {
    await loadEnums();
    info = await cbApi.rateInfo(token);
  } catch (e) {
    if (alive()) mount(root, pageHeader(t('rate_title')), errorBlock(e instanceof ApiError ? e.text(lang()) : String(e)));
    return;
  }
  if (!alive()) return;

  const yesNo = [
    { value: 'true', label: t('yes') },
    { value: 'false', label: t('no') },
  ];
  const comment = textarea('comment', { rows: 3, maxlength: 2000 });
  const submit = h('button', { type: 'submit', class: 'btn primary', 'data-testid': 'rate-submit' }, t('rate_submit'));
  const form = h(
    'form',
    { class: 'card stack', 'data-testid': 'rate-form', novalidate: true },
    radioGroup('contacted', t('cb_contacted'), yesNo, ''),
    radioGroup('resolution', t('cb_resolution'), enumOptions('resolutions', ['resolved', 'partly', 'unresolved']), ''),
    radioGroup('satisfaction', t('cb_satisfaction'), enumOptions('satisfactions', ['satisfied', 'basic', 'unsatisfied']), ''),
    field(t('rate_comment'), comment, { name: 'comment' }),
    h('div', { class: 'form-error', role: 'alert' }),
    h('div', { class: 'actions-row' }, submit),
  );
  const rules: Rule[] = (['contacted', 'resolution', 'satisfaction'] as const).map((name) => ({
    field: name,
    check: () => (radioValue(form, name) ? null : t('fe_choose', { label: t('fe_answer_label') })),
  }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!validate(form, rules)) return;
    submit.disabled = true;
    try {
      const res = await cbApi.rate(token, {
        contacted: radioValue(form, 'contacted') === 'true',
        resolution: radioValue(form, 'resolution'),
        satisfaction: radioValue(form, 'satisfaction'),
        comment: comment.value.trim() || undefined,
      });
      if (!alive()) return;
      mount(
        root,
        pageHeader(t('rate_title')),
        h(
          'section',
          { class: 'card done-card', 'data-testid': 'rate-done' },
          h('h2', null, t('rate_thanks')),
          h('p', null, t('rate_thanks_text', { number: res.number })),
          h('a', { class: 'btn', href: href('/track', { number: res.number }) }, t('rate_track')),
        ),
      );
    } catch (e) {
      serverError(form, e, rules);
      submit.disabled = false;
    }
  });

  mount(
    root,
    pageHeader(t('rate_title'), t('rate_lead')),
    h(
      'section',
      { class: 'card', 'data-testid': 'rate-ticket' },
      h('dl', { class: 'facts' }, h('dt', null, t('rate_number')), h('dd', { class: 'mono', 'data-testid': 'rate-number' }, info.number), h('dt', null, t('title')), h('dd', null, info.title), info.units.length ? [h('dt', null, t('rate_units')), h('dd', null, info.units.join('、'))] : null),
      info.result_text ? [h('h3', null, t('rate_result')), h('p', { class: 'prewrap' }, info.result_text)] : null,
    ),
    form,
  );
}
