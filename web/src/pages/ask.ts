// The public virtual agent (智能问答, no log-in): the citizen asks, POST /api/v1/public/ask answers
// from the knowledge base with its source (policy basis, owner unit), or hands over to a new
// request: "提交诉求" opens #/submit pre-filled with the handover draft (kept in sessionStorage).

import { api, type AskResult } from '../api';
import { field, h, mount, textarea } from '../dom';
import { required, serverError, validate } from '../forms';
import { lang, t } from '../i18n';
import type { PageCtx } from '../page';
import { navigate } from '../router';
import { pct, snippetText } from '../assist';

export const HANDOVER_KEY = 'jiesu.handover';

export interface Handover {
  text: string;
  category_code?: string | null;
  district_code?: string | null;
  street_code?: string | null;
  /** The virtual-agent session the hand-over comes from. */
  session_id?: string;
}

/** After a request is filed from a hand-over: the session's outcome becomes "ticket created" (for the
 * one-shot resolution rate). Best effort; never bothers the citizen. */
export function reportHandover(draft: Handover | null, number: string): void {
  if (draft?.session_id) void api.askHandover(draft.session_id, number).catch(() => undefined);
}

export function askPage({ root }: PageCtx): void {
  const q = textarea('question', { rows: 3, maxlength: 2000, required: true });
  const submit = h('button', { type: 'submit', class: 'btn primary', 'data-testid': 'ask-submit' }, t('ask_button'));
  const out = h('div', { class: 'ask-out', 'aria-live': 'polite', 'data-testid': 'ask-result' });
  const form = h(
    'form',
    { class: 'card public-form', novalidate: true, 'data-testid': 'ask-form' },
    field(t('ask_question'), q, { name: 'question', required: true, hint: t('ask_hint') }),
    h('div', { class: 'form-error' }),
    h('div', { class: 'actions-row' }, submit),
  );

  const handoverButton = (question: string, ho: Handover | null, session?: string) =>
    h(
      'button',
      {
        type: 'button',
        class: 'btn primary',
        'data-testid': 'ask-handover',
        onclick: () => {
          const draft: Handover = ho ?? { text: question };
          sessionStorage.setItem(HANDOVER_KEY, JSON.stringify({ ...draft, text: draft.text || question, session_id: session }));
          navigate('/submit');
        },
      },
      t('ask_file_request'),
    );

  const render = (question: string, r: AskResult) => {
    const a = r.answer;
    // the hand-over's explicit outcome and message (POST /api/v1/public/ask)
    const ho = r as AskResult & { outcome?: string; handover_reason?: string; handover_message?: { zh: string; en: string } };
    const others = r.suggestions.filter((s) => s.id !== a?.article_id).slice(0, 3);
    mount(
      out,
      a
        ? h(
            'section',
            { class: 'card ask-answer', 'data-testid': 'ask-answer', 'data-article': a.article_id },
            h('h2', null, a.question),
            h('p', { class: 'prewrap' }, a.answer),
            h(
              'dl',
              { class: 'ask-source', 'data-testid': 'ask-source' },
              a.policy_basis ? [h('dt', null, t('ask_policy')), h('dd', null, a.policy_basis)] : null,
              a.owner_unit_name || a.owner_unit ? [h('dt', null, t('ask_owner')), h('dd', null, a.owner_unit_name ?? a.owner_unit ?? '')] : null,
              h('dt', null, t('ask_article')),
              h('dd', null, `${a.article_id} · v${a.version} · ${t('confidence')} ${pct(a.confidence)}`),
            ),
            h('p', { class: 'muted small' }, t('ask_not_solved')),
            handoverButton(question, r.handover, r.session_id),
          )
        : h(
            // the agent does not know: say so, and how to file a request (#/submit or 12345)
            'section',
            { class: 'card ask-none', 'data-testid': 'ask-none', 'data-outcome': 'handover', 'data-reason': ho.handover_reason ?? '' },
            h('h2', null, t('ask_no_answer')),
            h('p', { 'data-testid': 'ask-handover-message' }, (lang() === 'en' ? ho.handover_message?.en : ho.handover_message?.zh) ?? t('ask_no_answer_text')),
            h('p', { class: 'muted small' }, t('ask_phone'), ' ', h('a', { href: 'tel:12345', 'data-testid': 'ask-phone' }, '12345')),
            handoverButton(question, r.handover, r.session_id),
          ),
      others.length
        ? h(
            'section',
            { class: 'card' },
            h('h2', null, t('ask_related')),
            h(
              'ul',
              { class: 'plain ask-related' },
              others.map((s) =>
                h(
                  'li',
                  null,
                  h(
                    'button',
                    {
                      type: 'button',
                      class: 'linklike',
                      onclick: () => {
                        q.value = snippetText(s.question_html);
                        form.requestSubmit();
                      },
                    },
                    snippetText(s.question_html),
                  ),
                ),
              ),
            ),
          )
        : null,
    );
  };

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const question = q.value.trim();
    if (!validate(form, [required('question', 'fe_question_label', () => q.value)])) return;
    submit.disabled = true;
    try {
      render(question, await api.ask(question));
    } catch (e) {
      serverError(form, e);
    } finally {
      submit.disabled = false;
    }
  });

  mount(
    root,
    h(
      'div',
      { class: 'narrow' },
      h('header', { class: 'page-head' }, h('div', null, h('h1', null, t('ask_title')), h('p', { class: 'lead' }, t('ask_lead')))),
      form,
      out,
    ),
  );
}
