// Staff log-in, with the demo accounts listed when the server runs in demo mode.

import { api, ApiError, setToken, type DemoInfo } from '../api';
import { button, field, h, input, mount, showFieldError } from '../dom';
import { required, validate } from '../forms';
import { lang, t } from '../i18n';
import { homeFor, type PageCtx } from '../page';
import { navigate } from '../router';
import { enumLabel, loadEnums, session } from '../store';

export async function loginPage({ root, route, alive }: PageCtx): Promise<void> {
  const username = input('username', { autocomplete: 'username', required: true });
  const password = input('password', { type: 'password', autocomplete: 'current-password', required: true });
  const submitBtn = h('button', { type: 'submit', class: 'btn primary block' }, t('login_button'));
  const form = h(
    'form',
    { class: 'card login-card', 'aria-labelledby': 'login-title', novalidate: true },
    h('h1', { id: 'login-title' }, t('login_title')),
    h('div', { class: 'form-error' }),
    field(t('username'), username, { name: 'username', required: true }),
    field(t('password'), password, { name: 'password', required: true }),
    submitBtn,
  );
  const demoBox = h('div', { class: 'demo-box' });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!validate(form, [required('username', 'fe_username_label', () => username.value), required('password', 'fe_password_label', () => password.value)])) return;
    submitBtn.disabled = true;
    try {
      const res = await api.login(username.value.trim(), password.value);
      setToken(res.token);
      session.user = res.user ?? (await api.me());
      await loadEnums();
      const next = route.query.get('next');
      navigate(next && next.startsWith('/') && !next.startsWith('/login') ? next : homeFor(session.user), true);
    } catch (e) {
      const msg = e instanceof ApiError && e.status !== 401 && e.status !== 400 ? e.text(lang()) : t('login_failed');
      if (e instanceof ApiError && e.status === 0) showFieldError(form, undefined, e.text(lang()));
      else showFieldError(form, undefined, msg);
    } finally {
      submitBtn.disabled = false;
    }
  });
  mount(root, h('div', { class: 'login-wrap' }, form, demoBox));
  username.focus();

  let demo: DemoInfo | null = null;
  try {
    demo = await api.demo();
  } catch {
    demo = null;
  }
  if (!alive() || !demo?.demo || !demo.accounts?.length) return;
  mount(
    demoBox,
    h(
      'section',
      { class: 'card demo-card', 'aria-labelledby': 'demo-title' },
      h('h2', { id: 'demo-title' }, t('demo_accounts')),
      h('p', { class: 'hint' }, t('demo_hint')),
      h(
        'table',
        { class: 'table compact' },
        h('thead', null, h('tr', null, h('th', null, t('username')), h('th', null, t('password')), h('th', null, t('role')))),
        h(
          'tbody',
          null,
          demo.accounts.map((a) =>
            h(
              'tr',
              null,
              h(
                'td',
                null,
                button(a.username, {
                  class: 'linklike',
                  'data-demo-user': a.username,
                  onclick: () => {
                    username.value = a.username;
                    password.value = a.password;
                    submitBtn.focus();
                  },
                }),
              ),
              h('td', null, h('code', null, a.password)),
              h('td', null, enumLabel('roles', a.role), a.unit_name || a.note ? h('div', { class: 'muted small' }, a.unit_name || a.note) : null),
            ),
          ),
        ),
      ),
    ),
  );
}
