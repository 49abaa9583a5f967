// 接口与导出 (#/admin): the admin manages the Open311 partners, the departments' API keys (create
// with a scope and a role, revoke, see each key's use and audited reads), webhook subscriptions
// and saved exports (create, run now, download). A new key or secret is shown once. A unit
// manager sees only the saved exports of their unit (capability `dept-exports`). The admin's
// legacy import (历史数据导入, `legacy-import`) is `admin-import.ts`.

import { ApiError, request, requestBlob } from '../api';
import { errorBlock, loadingBlock, pageHeader } from '../components';
import { button, clearErrors, field, h, input, mount, saveBlob, select, showFieldError, toast } from '../dom';
import { fmtTime as formatTime } from '../format';
import type { operations } from '../generated/api-types';
import { lang, t } from '../i18n';
import { importSection } from './admin-import';
import type { PageCtx } from '../page';
import { can, session } from '../store';

type Ok<K extends keyof operations, C extends number = 200> = operations[K] extends { responses: { [k in C]: { content: { 'application/json': infer T } } } } ? T : never;
type Partners = Ok<'get_admin_partners'>;
type Keys = Ok<'get_admin_dept_keys'>;
type Reads = Ok<'get_admin_dept_keys_id_reads'>;
type Hooks = Ok<'get_admin_webhooks'>;
type Exports = Ok<'get_exports'>;
type Columns = Ok<'get_exports_columns'>;
type NewKey = Ok<'post_admin_dept_keys', 201>;
type NewHook = Ok<'post_admin_webhooks', 201>;
type Rotated = Ok<'post_admin_partners_id_rotate_secret'>;

type Reload = (notice?: HTMLElement) => void;

function fail(form: HTMLElement, e: unknown): void {
  if (e instanceof ApiError) {
    const msg = e.text(lang());
    if (!showFieldError(form, e.field, msg)) toast(msg, 'error');
  } else toast(String(e), 'error');
}

/** A secret shown once, with its warning. */
function secretBox(testid: string, label: string, value: string): HTMLElement {
  return h(
    'div',
    { class: 'secret-box', role: 'status', 'data-testid': testid },
    h('strong', null, label),
    h('p', { class: 'muted' }, t('adm_shown_once')),
    h('code', { class: 'secret', 'data-testid': `${testid}-value` }, value),
  );
}

function table(testid: string, label: string, heads: string[], rows: HTMLElement[], empty: string): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'empty', 'data-testid': `${testid}-empty` }, empty);
  return h(
    'div',
    { class: 'table-scroll' },
    h(
      'table',
      { class: 'table admin-table', 'data-testid': testid, 'aria-label': label },
      h('thead', null, h('tr', null, heads.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, rows),
    ),
  );
}

function td(label: string, ...content: (Node | string | null)[]): HTMLElement {
  return h('td', { 'data-label': label }, ...content);
}

async function partnersSection(reload: Reload): Promise<HTMLElement> {
  const list = await request<Partners>('GET', '/api/v1/admin/partners');
  const name = input('name', { 'data-testid': 'adm-partner-name', maxlength: 100 });
  const channel = select(
    'channel',
    ['wechat', 'app', 'web', 'grid', 'mini_program', 'weibo', 'email'].map((c) => ({ value: c, label: c })),
    { value: 'wechat' },
  );
  const form = h(
    'form',
    { class: 'form-grid', 'data-testid': 'adm-partner-form', onsubmit: async (ev: Event) => {
      ev.preventDefault();
      clearErrors(form);
      try {
        const k = await request<NewKey>('POST', '/api/v1/admin/partners', { name: name.value, channel: channel.value });
        reload(secretBox('adm-partner-key', t('adm_partner_key'), k.key));
      } catch (e) {
        fail(form, e);
      }
    } },
    field(t('adm_name'), name, { name: 'name', required: true }),
    field(t('adm_channel'), channel, { name: 'channel' }),
    h('div', { class: 'actions' }, button(t('adm_add'), { type: 'submit', class: 'btn primary', 'data-testid': 'adm-partner-add' })),
  );
  const heads = [t('adm_name'), t('adm_channel'), t('adm_created'), t('adm_state'), ''];
  const rows = list.map((p) =>
    h(
      'tr',
      { 'data-testid': 'adm-partner-row', 'data-id': String(p.id) },
      td(heads[0], p.name),
      td(heads[1], p.channel),
      td(heads[2], p.created_at.slice(0, 10)),
      td(heads[3], h('span', { class: `badge ${p.revoked ? 'muted' : 'ok'}` }, p.revoked ? t('adm_revoked') : t('adm_active'))),
      td(
        heads[4],
        p.revoked
          ? null
          : h(
              'div',
              { class: 'actions' },
              button(t('adm_rotate'), {
                class: 'btn ghost',
                'data-testid': 'adm-partner-rotate',
                title: t('adm_rotate_hint'),
                onclick: async () => {
                  if (!confirm(t('adm_rotate_confirm'))) return;
                  try {
                    const r = await request<Rotated>('POST', `/api/v1/admin/partners/${p.id}/rotate-secret`, {});
                    const box = secretBox('adm-partner-secret', `${t('adm_new_signing_secret')}（${p.name}）`, r.secret);
                    box.append(h('p', { class: 'muted', 'data-testid': 'adm-partner-grace' }, t('adm_old_until'), ' ', formatTime(r.previous_valid_until)));
                    reload(box);
                  } catch (e) {
                    toast(e instanceof ApiError ? e.text(lang()) : String(e), 'error');
                  }
                },
              }),
              button(t('adm_revoke'), {
                class: 'btn ghost danger',
                'data-testid': 'adm-partner-revoke',
                onclick: async () => {
                  if (!confirm(t('adm_revoke_confirm'))) return;
                  await request('POST', `/api/v1/admin/partners/${p.id}/revoke`).catch((e) => toast(String(e), 'error'));
                  reload();
                },
              }),
            ),
      ),
    ),
  );
  return h(
    'section',
    { class: 'card', 'data-testid': 'adm-partners', 'aria-labelledby': 'adm-h-partners' },
    h('h2', { id: 'adm-h-partners' }, t('adm_partners')),
    h('p', { class: 'muted' }, t('adm_partners_lead')),
    table('adm-partner-table', t('adm_partners'), heads, rows, t('adm_none')),
    form,
  );
}

async function keysSection(reload: Reload): Promise<HTMLElement> {
  const list = await request<Keys>('GET', '/api/v1/admin/dept-keys');
  const name = input('name', { 'data-testid': 'adm-key-name', maxlength: 100 });
  const unit = input('unit_code', { 'data-testid': 'adm-key-unit', placeholder: '110105', inputmode: 'numeric' });
  const role = select(
    'role',
    [
      { value: 'unit_handler', label: t('adm_role_handler') },
      { value: 'unit_manager', label: t('adm_role_manager') },
    ],
    { value: 'unit_handler' },
  );
  const form = h(
    'form',
    { class: 'form-grid', 'data-testid': 'adm-key-form', onsubmit: async (ev: Event) => {
      ev.preventDefault();
      clearErrors(form);
      try {
        const k = await request<NewKey>('POST', '/api/v1/admin/dept-keys', { name: name.value, unit_code: unit.value.trim(), role: role.value });
        reload(secretBox('adm-new-key', t('adm_key'), k.key));
      } catch (e) {
        fail(form, e);
      }
    } },
    field(t('adm_name'), name, { name: 'name', required: true }),
    field(t('adm_unit'), unit, { name: 'unit_code', required: true, hint: t('adm_unit_hint') }),
    field(t('adm_role'), role, { name: 'role', hint: t('adm_role_hint') }),
    h('div', { class: 'actions' }, button(t('adm_create_key'), { type: 'submit', class: 'btn primary', 'data-testid': 'adm-key-add' })),
  );
  const reads = h('div', { 'data-testid': 'adm-key-reads' });
  const heads = [t('adm_name'), t('adm_unit'), t('adm_role'), t('adm_uses'), t('adm_last_used'), t('adm_state'), ''];
  const rows = list.map((k) =>
    h(
      'tr',
      { 'data-testid': 'adm-key-row', 'data-id': String(k.id) },
      td(heads[0], k.name),
      td(heads[1], `${k.unit_name || k.unit_code} (${k.unit_code})`),
      td(heads[2], k.role === 'unit_manager' ? t('adm_role_manager') : t('adm_role_handler')),
      h('td', { 'data-label': heads[3], class: 'num', 'data-testid': 'adm-key-uses' }, String(k.uses)),
      td(heads[4], k.last_used_at ? formatTime(k.last_used_at) : '—'),
      td(heads[5], h('span', { class: `badge ${k.revoked_at ? 'muted' : 'ok'}` }, k.revoked_at ? t('adm_revoked') : t('adm_active'))),
      td(
        heads[6],
        button(t('adm_reads'), {
          class: 'btn ghost',
          'data-testid': 'adm-key-show-reads',
          onclick: async () => {
            const r = await request<Reads>('GET', `/api/v1/admin/dept-keys/${k.id}/reads`);
            mount(
              reads,
              h('h3', null, `${t('adm_reads_of')} ${k.name}`),
              r.length === 0
                ? h('p', { class: 'empty' }, t('adm_none'))
                : h('ul', { class: 'admin-list' }, r.map((x) => h('li', { 'data-testid': 'adm-read' }, h('time', null, formatTime(x.at)), ' ', h('code', null, x.what)))),
            );
          },
        }),
        k.revoked_at
          ? null
          : button(t('adm_revoke'), {
              class: 'btn ghost danger',
              'data-testid': 'adm-key-revoke',
              onclick: async () => {
                if (!confirm(t('adm_revoke_confirm'))) return;
                await request('POST', `/api/v1/admin/dept-keys/${k.id}/revoke`).catch((e) => toast(String(e), 'error'));
                reload();
              },
            }),
      ),
    ),
  );
  return h(
    'section',
    { class: 'card', 'data-testid': 'adm-keys', 'aria-labelledby': 'adm-h-keys' },
    h('h2', { id: 'adm-h-keys' }, t('adm_keys')),
    h('p', { class: 'muted' }, t('adm_keys_lead')),
    table('adm-key-table', t('adm_keys'), heads, rows, t('adm_none')),
    reads,
    form,
  );
}

/** Webhook subscriptions: every unit's for the admin (`api-keys`), or the caller's own unit's
 * (`dept-webhooks`: a unit manager; `own`). */
async function hooksSection(reload: Reload, own = false): Promise<HTMLElement> {
  const base = own ? '/api/v1/webhooks' : '/api/v1/admin/webhooks';
  const list = await request<Hooks>('GET', base);
  const unit = input('unit_code', { 'data-testid': 'adm-hook-unit', inputmode: 'numeric', value: own ? (session.user?.unit_code ?? '') : '' });
  const url = input('url', { 'data-testid': 'adm-hook-url', inputmode: 'url', placeholder: 'http://' });
  const form = h(
    'form',
    { class: 'form-grid', 'data-testid': 'adm-hook-form', onsubmit: async (ev: Event) => {
      ev.preventDefault();
      clearErrors(form);
      try {
        const r = await request<NewHook>('POST', base, { unit_code: unit.value.trim(), url: url.value.trim() });
        reload(secretBox('adm-new-secret', t('adm_secret'), r.secret));
      } catch (e) {
        fail(form, e);
      }
    } },
    field(t('adm_unit'), unit, { name: 'unit_code', required: true }),
    field(t('adm_url'), url, { name: 'url', required: true }),
    h('div', { class: 'actions' }, button(t('adm_subscribe'), { type: 'submit', class: 'btn primary', 'data-testid': 'adm-hook-add' })),
  );
  const heads = [t('adm_unit'), t('adm_url'), t('adm_created'), t('adm_state'), ''];
  const rows = list.map((w) =>
    h(
      'tr',
      { 'data-testid': 'adm-hook-row' },
      td(heads[0], `${w.unit_name || w.unit_code} (${w.unit_code})`),
      td(heads[1], h('code', null, w.url)),
      td(heads[2], formatTime(w.created_at)),
      td(heads[3], h('span', { class: `badge ${w.revoked_at ? 'muted' : 'ok'}` }, w.revoked_at ? t('adm_revoked') : t('adm_active'))),
      td(
        heads[4],
        w.revoked_at
          ? null
          : button(t('adm_revoke'), {
              class: 'btn ghost danger',
              onclick: async () => {
                await request('POST', own ? `${base}/${w.id}/delete` : `${base}/${w.id}/revoke`).catch((e) => toast(e instanceof ApiError ? e.text(lang()) : String(e), 'error'));
                reload();
              },
            }),
      ),
    ),
  );
  return h(
    'section',
    { class: 'card', 'data-testid': own ? 'adm-own-hooks' : 'adm-hooks', 'aria-labelledby': own ? 'adm-h-own-hooks' : 'adm-h-hooks' },
    h('h2', { id: own ? 'adm-h-own-hooks' : 'adm-h-hooks' }, own ? t('adm_own_hooks') : t('adm_hooks')),
    h('p', { class: 'muted' }, own ? t('adm_own_hooks_lead') : t('adm_hooks_lead')),
    table('adm-hook-table', t('adm_hooks'), heads, rows, t('adm_none')),
    form,
  );
}

async function download(path: string, name: string): Promise<void> {
  saveBlob(await requestBlob(path), name);
}

async function exportsSection(reload: Reload): Promise<HTMLElement> {
  const [list, cols] = await Promise.all([request<Exports>('GET', '/api/v1/exports'), request<Columns>('GET', '/api/v1/exports/columns')]);
  const name = input('name', { 'data-testid': 'adm-exp-name', maxlength: 100 });
  const unit = input('unit_code', { 'data-testid': 'adm-exp-unit', inputmode: 'numeric', value: session.user?.unit_code ?? '' });
  const format = select('format', ['csv', 'xlsx', 'parquet'].map((f) => ({ value: f, label: f.toUpperCase() })), { value: 'csv' });
  const schedule = select(
    'schedule',
    ['none', 'daily', 'weekly', 'monthly'].map((s) => ({ value: s, label: t(`adm_sched_${s}` as never) })),
    { value: 'monthly' },
  );
  const picks = cols.map((c) =>
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'columns', value: c.name, checked: ['ticket_id', 'created_date', 'category', 'status'].includes(c.name) }), ' ', c.name),
  );
  const colBox = h('fieldset', { class: 'admin-columns wide', 'data-field': 'columns', 'data-testid': 'adm-exp-columns' }, h('legend', null, t('adm_columns')), ...picks, h('div', { class: 'field-error', role: 'alert' }));
  const form = h(
    'form',
    { class: 'form-grid', 'data-testid': 'adm-exp-form', onsubmit: async (ev: Event) => {
      ev.preventDefault();
      clearErrors(form);
      const columns = [...form.querySelectorAll<HTMLInputElement>('input[name=columns]:checked')].map((i) => i.value);
      try {
        await request('POST', '/api/v1/exports', { name: name.value, unit_code: unit.value.trim(), columns, format: format.value, schedule: schedule.value });
        toast(t('saved'));
        reload();
      } catch (e) {
        fail(form, e);
      }
    } },
    field(t('adm_name'), name, { name: 'name', required: true }),
    field(t('adm_unit'), unit, { name: 'unit_code', required: true }),
    field(t('adm_format'), format, { name: 'format' }),
    field(t('adm_schedule'), schedule, { name: 'schedule', hint: t('adm_schedule_hint') }),
    colBox,
    h('div', { class: 'actions' }, button(t('adm_save_export'), { type: 'submit', class: 'btn primary', 'data-testid': 'adm-exp-add' })),
  );
  const heads = [t('adm_name'), t('adm_unit'), t('adm_format'), t('adm_schedule'), t('adm_files'), ''];
  const rows = list.map((e) =>
    h(
      'tr',
      { 'data-testid': 'adm-exp-row', 'data-id': String(e.id) },
      td(heads[0], e.name),
      td(heads[1], `${e.unit_name || e.unit_code} (${e.unit_code})`),
      td(heads[2], e.format.toUpperCase()),
      td(heads[3], t(`adm_sched_${e.schedule}` as never)),
      td(
        heads[4],
        e.runs.length === 0
          ? '—'
          : h(
              'ul',
              { class: 'admin-list' },
              e.runs.slice(0, 5).map((r) =>
                h(
                  'li',
                  null,
                  h(
                    'a',
                    {
                      href: '#',
                      'data-testid': 'adm-exp-file',
                      onclick: (ev: Event) => {
                        ev.preventDefault();
                        download(r.file, `${e.name}-${r.period}.${r.format}`).catch((x) => toast(String(x), 'error'));
                      },
                    },
                    `${r.period} · ${r.rows} ${t('adm_rows')}`,
                  ),
                ),
              ),
            ),
      ),
      td(
        heads[5],
        button(t('adm_run_now'), {
          class: 'btn',
          'data-testid': 'adm-exp-run',
          onclick: async () => {
            try {
              await request('POST', `/api/v1/exports/${e.id}/run`);
              toast(t('adm_run_done'));
              reload();
            } catch (x) {
              toast(x instanceof ApiError ? x.text(lang()) : String(x), 'error');
            }
          },
        }),
        button(t('adm_delete'), {
          class: 'btn ghost danger',
          onclick: async () => {
            if (!confirm(t('adm_delete_confirm'))) return;
            await request('POST', `/api/v1/exports/${e.id}/delete`).catch((x) => toast(String(x), 'error'));
            reload();
          },
        }),
      ),
    ),
  );
  return h(
    'section',
    { class: 'card', 'data-testid': 'adm-exports', 'aria-labelledby': 'adm-h-exports' },
    h('h2', { id: 'adm-h-exports' }, t('adm_exports')),
    h('p', { class: 'muted' }, t('adm_exports_lead'), ' ', h('a', { href: '/api/v1/public/open-data', 'data-testid': 'adm-open-data' }, t('adm_open_data'))),
    table('adm-exp-table', t('adm_exports'), heads, rows, t('adm_none')),
    form,
  );
}

export async function adminPage({ root, alive }: PageCtx): Promise<void> {
  const body = h('div', { class: 'stack' }, loadingBlock());
  mount(root, pageHeader(t('adm_title'), t('adm_lead')), body);
  const sections: { key: string; make: (reload: Reload) => Promise<HTMLElement> }[] = [];
  if (can('api-keys')) sections.push({ key: 'partners', make: partnersSection }, { key: 'keys', make: keysSection }, { key: 'hooks', make: hooksSection });
  if (can('dept-exports')) sections.push({ key: 'exports', make: exportsSection });
  if (can('dept-webhooks') && !can('api-keys')) sections.push({ key: 'own-hooks', make: (r) => hooksSection(r, true) });
  if (can('legacy-import')) sections.push({ key: 'import', make: () => importSection() });
  const slots = sections.map(() => h('div', null, loadingBlock()));
  mount(body, ...slots);
  await Promise.all(
    sections.map(async (s, i) => {
      // a section loads itself again after a change; a key or secret just made is shown below
      // its form, once
      const load = async (notice?: HTMLElement): Promise<void> => {
        try {
          const el = await s.make((n) => void load(n));
          if (!alive()) return;
          mount(slots[i], el);
          if (notice) el.append(notice);
        } catch (e) {
          if (alive()) mount(slots[i], errorBlock(e instanceof ApiError ? e.text(lang()) : String(e)));
        }
      };
      await load();
    }),
  );
}
