// 风险推送 in the UI: the banner that tells the agent to transfer the caller to 110 / 119 / 120 /
// 122 when the request shows signs of an emergency (gas smell, fire, collapse, flooding,
// violence, a person in danger, a road accident). The same detector marks the ticket at intake
// and pushes an alert to the street; the banner shows while the agent types (POST
// /api/v1/risk/check), on the intake's done card and on the ticket.

import type { RiskView } from './api';
import { h } from './dom';
import { lang, t } from './i18n';

const NUMBER_KEY: Record<string, string> = { '110': 'risk_110', '119': 'risk_119', '120': 'risk_120', '122': 'risk_122' };

/** The banner for a risk mark (role=alert: read out by screen readers when it appears). */
export function riskBanner(r: RiskView, extra?: HTMLElement | string | null): HTMLElement {
  const kind = lang() === 'zh' ? r.kind_label : r.kind_label_en;
  return h(
    'div',
    { class: 'risk-banner', role: 'alert', 'data-testid': 'risk-banner', 'data-kind': r.kind },
    h('div', { class: 'risk-icon', 'aria-hidden': 'true' }, '!'),
    h(
      'div',
      { class: 'risk-body' },
      h('strong', { class: 'risk-head' }, t('risk_head', { kind })),
      h(
        'div',
        { class: 'risk-numbers' },
        t('risk_transfer'),
        ' ',
        r.transfer_to.map((n) =>
          h('span', { class: 'risk-number', 'data-testid': 'risk-number', title: t(NUMBER_KEY[n] as never) }, n, h('small', null, t(NUMBER_KEY[n] as never))),
        ),
      ),
      r.signs.length ? h('div', { class: 'risk-signs' }, `${t('risk_signs')}：`, r.signs.slice(0, 3).join('；')) : null,
      extra ?? null,
    ),
  );
}
