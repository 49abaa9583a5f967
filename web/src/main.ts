// Entry point: the shell (top bar + main area) and the hash router.

import './styles/index.css';
import { api, hasToken, setUnauthorizedHandler } from './api';
import { errorBlock } from './components';
import { button, h, mount, toast } from './dom';
import { lang, onLangChange, setLang, t, type Key } from './i18n';
import { currentRoute, navigate, type Route } from './router';
import { homeFor, type Page, type PageCtx } from './page';
import { useServerTimeZone } from './format';
import { can, enumLabel, loadEnums, loadInbox, session, signOut, unreadCount } from './store';
import { cataloguePage } from './pages/catalogue';
import { inboxPage } from './pages/inbox';
import { reportsInboxPage } from './pages/reports-inbox';
import { refreshReportsBadge } from './report-badge';
import { scoresPage } from './pages/scores';
import { supervisionPage } from './pages/supervision';
import { callbacksPage } from './pages/callbacks';
import { ratePage } from './pages/rate';
import { homePage } from './pages/home';
import { overviewPage } from './pages/overview';
import { dashboardPage } from './pages/dashboard';
import { adminPage } from './pages/admin';
import { alertsPage } from './pages/alerts';
import { streetsPage } from './pages/streets';
import { auditPage } from './pages/audit';
import { foresightPage } from './pages/foresight';
import { monthlyPage } from './pages/monthly';
import { intakePage } from './pages/intake';
import { loginPage } from './pages/login';
import { submitPage } from './pages/submit';
import { ticketPage } from './pages/ticket';
import { ticketsPage } from './pages/tickets';
import { trackPage } from './pages/track';
import { transparencyPage } from './pages/transparency';
import { askPage } from './pages/ask';
import { kbPage } from './pages/kb';
import { workbenchPage } from './pages/workbench';
import { gridPage } from './pages/grid';

interface RouteDef {
  page: Page;
  /** The browser tab's title. */
  title?: Key;
  /** 'public' = no log-in needed; otherwise the capability (from `/me`) the page needs. */
  access: 'public' | string;
  wide?: boolean;
}

const ROUTES: Record<string, RouteDef> = {
  '': { page: homePage, access: 'public', title: 'home_title' },
  login: { page: loginPage, access: 'public', title: 'login_title' },
  submit: { page: submitPage, access: 'public', title: 'submit_title' },
  track: { page: trackPage, access: 'public', title: 'track_title' },
  transparency: { page: transparencyPage, access: 'public', title: 'tr_title' },
  ask: { page: askPage, access: 'public', title: 'ask_title' },
  rate: { page: ratePage, access: 'public', title: 'rate_title' },
  intake: { page: intakePage, access: 'intake', title: 'intake_title' },
  grid: { page: gridPage, access: 'grid-report', title: 'grid_title' },
  overview: { page: overviewPage, access: 'overview', title: 'ov_title', wide: true },
  dashboard: { page: dashboardPage, access: 'analytics', title: 'dash_title', wide: true },
  alerts: { page: alertsPage, access: 'alerts', title: 'alerts_title', wide: true },
  streets: { page: streetsPage, access: 'analytics', title: 'st_title', wide: true },
  audit: { page: auditPage, access: 'reply-audit', title: 'au_title', wide: true },
  foresight: { page: foresightPage, access: 'analytics', title: 'fs_title', wide: true },
  monthly: { page: monthlyPage, access: 'monthly-view', title: 'mt_title', wide: true },
  workbench: { page: workbenchPage, access: 'unit-desk', title: 'workbench_title' },
  callbacks: { page: callbacksPage, access: 'callback-desk', title: 'callbacks_title', wide: true },
  tickets: { page: ticketsPage, access: 'tickets-read', title: 'tickets_title', wide: true },
  catalogue: { page: cataloguePage, access: 'catalogue-view', title: 'cat_title', wide: true },
  supervision: { page: supervisionPage, access: 'supervision-view', title: 'sup_title', wide: true },
  inbox: { page: inboxPage, access: 'unit-desk', title: 'inbox_title' },
  reports: { page: reportsInboxPage, access: 'analytics', title: 'ri_title' },
  kb: { page: kbPage, access: 'kb-edit', title: 'kbm_title', wide: true },
  scores: { page: scoresPage, access: 'public', title: 'sc_title', wide: true },
  admin: { page: adminPage, access: 'dept-exports', title: 'adm_title', wide: true },
};
const TICKET_ROUTE: RouteDef = { page: ticketPage, access: 'tickets-read', wide: true, title: 'ticket_number' };

function allowed(def: RouteDef): boolean {
  if (def.access === 'public') return true;
  return can(def.access);
}

function navFor(role: string): { key: Key; path: string }[] {
  const items: { key: Key; path: string }[] = [];
  if (can('overview')) items.push({ key: 'nav_overview', path: '/overview' });
  if (can('analytics')) items.push({ key: 'nav_dashboard', path: '/dashboard' });
  if (can('alerts')) items.push({ key: 'nav_alerts', path: '/alerts' });
  // the centre reaches 每月一题 from the dashboard's 主动治理 links; a unit's staff from the menu
  if (can('monthly-view') && !can('analytics')) items.push({ key: 'nav_monthly', path: '/monthly' });
  if (can('intake')) items.push({ key: 'nav_intake', path: '/intake' });
  if (can('grid-report')) items.push({ key: 'nav_grid', path: '/grid' });
  if (can('unit-desk')) items.push({ key: 'nav_workbench', path: '/workbench' });
  if (can('unit-desk')) items.push({ key: 'nav_inbox', path: '/inbox' });
  // 报告收件箱: the reports of the kinds one subscribes to, with the unread count
  if (can('analytics')) items.push({ key: 'nav_reports', path: '/reports' });
  if (can('callback-desk')) items.push({ key: 'nav_callbacks', path: '/callbacks' });
  // the dispatch desk starts from the new tickets (a landing choice, not a permission)
  if (can('tickets-read')) items.push({ key: 'nav_tickets', path: role === 'dispatcher' ? '/tickets?status=new' : '/tickets' });
  if (can('supervision-view')) items.push({ key: 'nav_supervision', path: '/supervision' });
  if (can('catalogue-view')) items.push({ key: 'nav_catalogue', path: '/catalogue' });
  if (can('kb-edit')) items.push({ key: 'nav_kb', path: '/kb' });
  if (can('api-keys') || can('dept-exports') || can('legacy-import')) items.push({ key: 'nav_admin', path: '/admin' });
  items.push({ key: 'nav_scores', path: '/scores' });
  return items;
}

const app = document.getElementById('app')!;
let cleanups: (() => void)[] = [];
let generation = 0;

function topbar(route: Route): HTMLElement {
  const user = session.user;
  const section = route.parts[0] ?? '';
  const navLink = (label: string, path: string, key: string) =>
    h('a', { href: `#${path}`, class: section === key ? 'active' : null, 'aria-current': section === key ? 'page' : null }, label);
  const langBtn = button(t('lang_toggle'), {
    class: 'btn ghost lang-toggle',
    'aria-label': t('lang_toggle_label'),
    'data-testid': 'lang-toggle',
    lang: lang() === 'zh' ? 'en' : 'zh-CN',
    onclick: () => setLang(lang() === 'zh' ? 'en' : 'zh'),
  });
  const brand = h(
    'a',
    { class: 'brand', href: user ? `#${homeFor(user)}` : '#/' },
    h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, '12345'),
    h('span', { class: 'brand-text' }, h('strong', null, t('brand')), h('small', null, t('brand_sub'))),
  );
  let nav: HTMLElement;
  let right: HTMLElement;
  let who: HTMLElement | null = null;
  if (user && !['submit', 'track', 'transparency', '', 'login', 'ask'].includes(section)) {
    nav = menuNav(
      { kind: 'staff', label: t('menu'), testid: 'staff-menu' },
      navFor(user.role).map((n) => navLink(t(n.key), n.path, n.path.slice(1).split('?')[0])),
    );
    if (can('unit-desk') && section !== 'inbox') void inboxBadge(nav.querySelector('a[href="#/inbox"]'));
    // the reports page draws its own count once it has the list
    if (can('analytics') && section !== 'reports') void refreshReportsBadge();
    who = h(
      'div',
      { class: 'whoami', 'data-testid': 'whoami' },
      h('span', { class: 'who-name' }, user.username),
      h('span', { class: 'who-role' }, enumLabel('roles', user.role)),
      user.unit_name || user.unit_code ? h('span', { class: 'who-unit' }, user.unit_name || user.unit_code) : null,
    );
    right = h(
      'div',
      { class: 'topbar-right' },
      langBtn,
      button(t('logout'), {
        class: 'btn ghost',
        onclick: async () => {
          // the server forgets the token first; a failure (already expired, offline) still signs out here
          await api.logout().catch(() => undefined);
          signOut();
          navigate('/login');
        },
      }),
    );
  } else {
    nav = publicNav(section, navLink);
    right = h(
      'div',
      { class: 'topbar-right' },
      langBtn,
      user
        ? h('a', { class: 'btn ghost', href: `#${homeFor(user)}` }, user.username)
        : h('a', { class: 'btn ghost', href: '#/login' }, t('nav_login')),
    );
  }
  return h('header', { class: 'topbar' }, h('div', { class: 'topbar-inner' }, brand, nav, who, right));
}

/**
 * The public menu: the public pages inline on a desktop; on a phone (CSS, ≤ 720 px) a labelled
 * "☰ 菜单" button that opens the same links as a list, so every public page is one tap away.
 */
function publicNav(section: string, navLink: (label: string, path: string, key: string) => HTMLElement): HTMLElement {
  return menuNav({ kind: 'public', label: t('pub_menu'), testid: 'public-menu' }, [
    navLink(t('nav_submit'), '/submit', 'submit'),
    navLink(t('nav_track'), '/track', 'track'),
    navLink(t('nav_ask'), '/ask', 'ask'),
    navLink(t('nav_scores'), '/scores', 'scores'),
    navLink(t('tr_nav'), '/transparency', 'transparency'),
    session.user ? null : h('a', { href: '#/login', class: `menu-only ${section === 'login' ? 'active' : ''}` }, t('nav_login')),
  ]);
}

/**
 * The top bar's menu (public pages and, signed in, the staff pages): the links inline on a
 * desktop; on a phone (CSS, ≤ 720 px) behind a labelled "☰ 菜单" button (`aria-expanded`,
 * `aria-controls`) that opens them as a list. A tap on a link, or Escape (focus back on the
 * button), closes it; every navigation rebuilds the top bar closed.
 */
function menuNav(o: { kind: 'public' | 'staff'; label: string; testid: string }, items: (HTMLElement | null)[]): HTMLElement {
  const listId = `${o.kind}-menu`;
  const links = h('div', { class: `menu-links ${o.kind}-menu-links`, id: listId, 'data-testid': `${o.testid}-links` }, items);
  const nav = h('nav', { class: `nav menu-nav ${o.kind}-nav`, 'aria-label': t('nav_main') });
  const setOpen = (open: boolean) => {
    nav.classList.toggle('open', open);
    toggle.setAttribute('aria-expanded', String(open));
  };
  const toggle = button([h('span', { class: 'menu-icon', 'aria-hidden': 'true' }, '☰'), ' ', o.label], {
    class: 'btn ghost menu-toggle',
    'aria-expanded': 'false',
    'aria-controls': listId,
    'data-testid': o.testid,
    onclick: () => setOpen(!nav.classList.contains('open')),
  });
  // a list (☰ or More) closes when one of its links is taken and on Escape, focus back on its button
  const closes = (list: HTMLElement, holder: HTMLElement, set: (open: boolean) => void, btn: HTMLElement) => {
    list.addEventListener('click', (ev) => {
      if ((ev.target as Element).closest('a')) set(false);
    });
    nav.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && holder.classList.contains('open')) {
        set(false);
        btn.focus();
      }
    });
  };
  closes(links, nav, setOpen, toggle);
  // On a desktop the links that do not fit in the bar (a long menu, English labels, a narrow
  // window) move, in order, behind "更多 ▾" at its end: every page stays one click away and the
  // bar is never cut or scrolled sideways. The same links move (no copies), so each page has one.
  const moreList = h('div', { class: 'menu-more-list', id: `${listId}-more`, 'data-testid': `${o.testid}-more-list` });
  const more = h('div', { class: 'menu-more' });
  const setMoreOpen = (open: boolean) => {
    more.classList.toggle('open', open);
    moreBtn.setAttribute('aria-expanded', String(open));
  };
  const moreBtn = button([t('menu_more'), h('span', { 'aria-hidden': 'true' }, ' ▾')], {
    class: 'menu-more-btn',
    'aria-expanded': 'false',
    'aria-controls': `${listId}-more`,
    'aria-label': t('menu_more_label'),
    'data-testid': `${o.testid}-more`,
    onclick: () => setMoreOpen(!more.classList.contains('open')),
  });
  mount(more, moreBtn, moreList);
  closes(moreList, more, setMoreOpen, moreBtn);
  // a click elsewhere closes More; the listener goes with the bar (each page draws a new one)
  const outside = (ev: MouseEvent) => {
    if (!nav.isConnected) document.removeEventListener('click', outside);
    else if (more.classList.contains('open') && !more.contains(ev.target as Node)) setMoreOpen(false);
  };
  document.addEventListener('click', outside);
  const all = items.filter((x): x is HTMLElement => x !== null);
  const phone = window.matchMedia('(max-width: 720px)');
  let fitting = false;
  const fit = () => {
    if (fitting || !nav.isConnected) return;
    fitting = true;
    for (const a of all) links.appendChild(a);
    more.hidden = true;
    setMoreOpen(false);
    const cut = () => links.scrollWidth > links.clientWidth + 1 || nav.scrollWidth > nav.clientWidth + 1;
    if (!phone.matches && cut()) {
      more.hidden = false;
      for (let i = all.length - 1; i > 0 && cut(); i--) moreList.prepend(all[i]);
    }
    moreBtn.classList.toggle('active', moreList.querySelector('a.active') !== null);
    fitting = false;
  };
  mount(nav, toggle, links, more);
  more.hidden = true;
  const observer = new ResizeObserver(() => {
    if (!nav.isConnected) observer.disconnect();
    else fit();
  });
  requestAnimationFrame(() => {
    fit();
    observer.observe(nav);
  });
  void document.fonts?.ready.then(fit);
  return nav;
}

/** The unread count of the unit's inbox on its nav link (notices newer than the last visit). */
async function inboxBadge(link: Element | null): Promise<void> {
  if (!link) return;
  try {
    const n = unreadCount(await loadInbox());
    if (!n || !link.isConnected) return;
    link.querySelector('.nav-badge')?.remove();
    link.appendChild(h('span', { class: 'nav-badge', 'data-testid': 'inbox-badge', 'aria-hidden': 'true' }, n > 99 ? '99+' : String(n)));
    link.setAttribute('aria-label', t('inbox_badge_label', { n }));
  } catch {
    /* the inbox is a convenience: no badge when it cannot be read */
  }
}

async function render(): Promise<void> {
  for (const f of cleanups) f();
  cleanups = [];
  const gen = ++generation;
  const route = currentRoute();
  const key = route.parts[0] ?? '';
  const def = key === 'tickets' && route.parts[1] ? TICKET_ROUTE : ROUTES[key];

  if (key === '' && session.user) {
    navigate(homeFor(session.user), true);
    return;
  }
  if (key === 'login' && session.user) {
    navigate(homeFor(session.user), true);
    return;
  }

  document.title = def?.title ? `${t(def.title)} · ${t('brand')}` : t('brand');
  const main = h('main', { id: 'main', tabindex: '-1', class: def?.wide ? 'wide' : null });
  const skip = button(t('skip_to_content'), { class: 'skip-link', onclick: () => main.focus() });
  mount(app, skip, topbar(route), main);

  if (!def) {
    mount(main, h('div', { class: 'empty-state' }, h('h1', null, t('not_found')), h('a', { href: '#/', class: 'btn' }, t('back_home'))));
    return;
  }
  if (!allowed(def)) {
    if (!session.user) {
      navigate(`/login?next=${encodeURIComponent(route.path + (route.query.toString() ? `?${route.query}` : ''))}`, true);
      return;
    }
    mount(main, h('div', { 'data-testid': 'forbidden' }, errorBlock(t('forbidden_page'))));
    return;
  }
  const ctx: PageCtx = {
    root: main,
    route,
    alive: () => gen === generation,
    onCleanup: (f) => cleanups.push(f),
  };
  try {
    await def.page(ctx);
  } catch (e) {
    if (ctx.alive()) mount(main, errorBlock(e instanceof Error ? e.message : String(e), () => void render()));
  }
}

async function boot(): Promise<void> {
  setUnauthorizedHandler(() => {
    session.user = null;
    toast(t('session_expired'), 'error');
    const r = currentRoute();
    if (r.parts[0] !== 'login') navigate('/login');
  });
  if (hasToken()) {
    try {
      session.user = await api.me();
    } catch {
      signOut();
    }
  }
  // the city's time zone (GET /api/v1/enums) before any page formats a date or picks a month
  useServerTimeZone(await loadEnums());
  window.addEventListener('hashchange', () => void render());
  onLangChange(() => void render());
  await render();
}

void boot();

