// The public landing page: submit a request, track one, or sign in as staff.

import { h, mount } from '../dom';
import { t } from '../i18n';
import type { PageCtx } from '../page';

// Simple line icons (24×24, stroke = currentColor), inline so no file or font is fetched.
const ICONS: Record<string, string> = {
  write: '<path d="M4 20h4L19 9l-4-4L4 16v4z"/><path d="M13.5 6.5l4 4"/>',
  track: '<circle cx="11" cy="11" r="6.5"/><path d="M16 16l4.5 4.5"/><path d="M8.5 11h5M11 8.5v5"/>',
  ask: '<path d="M4 5h16v11H9l-5 4V5z"/><path d="M9.5 9a2.5 2.5 0 1 1 3.5 2.3c-.6.3-1 .8-1 1.4"/><path d="M12 14.5v.01"/>',
  scores: '<path d="M4 20V10M10 20V4M16 20v-7M21 20H3"/>',
  staff: '<circle cx="12" cy="8" r="3.5"/><path d="M5 20c.8-3.6 3.6-5.5 7-5.5s6.2 1.9 7 5.5"/>',
};

function icon(name: string): HTMLElement {
  const span = h('span', { class: 'home-icon', 'aria-hidden': 'true' });
  span.innerHTML = `<svg viewBox="0 0 24 24" width="24" height="24" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">${ICONS[name]}</svg>`;
  return span;
}

export function homePage({ root }: PageCtx): void {
  const card = (path: string, iconName: string, title: string, desc: string, testid: string) =>
    h(
      'a',
      { class: 'home-card', href: `#${path}`, 'data-testid': testid },
      icon(iconName),
      h('strong', null, title),
      h('span', null, desc),
    );
  mount(
    root,
    h(
      'section',
      { class: 'hero' },
      h('h1', null, t('home_title')),
      h('p', { class: 'lead' }, t('home_lead')),
    ),
    h(
      'div',
      { class: 'home-cards' },
      card('/submit', 'write', t('nav_submit'), t('home_submit_desc'), 'home-submit'),
      card('/ask', 'ask', t('nav_ask'), t('home_ask_desc'), 'home-ask'),
      card('/track', 'track', t('nav_track'), t('trk_home_desc'), 'home-track'),
      card('/scores', 'scores', t('nav_scores'), t('home_scores_desc'), 'home-scores'),
      card('/login', 'staff', t('nav_login'), t('home_staff_desc'), 'home-login'),
    ),
  );
}
