// 治理规则 — the admin's section of a governance policy (kind `streets` on #/streets, kind
// `reply-audit` on #/audit): every version (0 = the shipped default) with its first month, author
// and whether it governs the current month; one version's fields; a new version edited as TOML,
// previewed on the latest months (street policies) and submitted. A refused policy names its
// field beside the editor.

import { ApiError, request } from '../api';
import { errorBlock, loadingBlock } from '../components';
import { button, clearErrors, field, h, mount, showFieldError, textarea, toast } from '../dom';
import type { operations } from '../generated/api-types';
import { fmtTime } from '../format';
import { lang, t } from '../i18n';

type Ok<K extends keyof operations> = operations[K] extends { responses: { 200: { content: { 'application/json': infer T } } } } ? T : never;
type VersionList = Ok<'get_governance_policies_kind'>;
type Version = VersionList['versions'][number];
type Preview = Ok<'post_governance_policy_previews_streets'>;

/** The policy's fields as TOML (text quoted as JSON strings, which TOML reads alike). */
export function toToml(policy: Record<string, unknown>, effectiveFrom?: string): string {
  return Object.entries(policy)
    .map(([k, v]) => `${k} = ${JSON.stringify(k === 'effective_from' && effectiveFrom ? effectiveFrom : v)}`)
    .join('\n');
}

function message(e: unknown): string {
  return e instanceof ApiError ? e.text(lang()) : String(e);
}

function classesLine(m: Record<string, number>): string {
  return ['govern', 'rectify', 'improved', 'advanced', 'ordinary'].map((c) => `${t(`st_class_${c}` as never)} ${m[c] ?? 0}`).join(' · ');
}

function previewBlock(p: Preview): HTMLElement {
  return h(
    'div',
    { 'data-testid': 'gp-preview' },
    p.months.length === 0 ? h('p', { class: 'empty' }, t('gp_preview_none')) : null,
    p.months.map((m) =>
      h(
        'div',
        { class: 'gp-month', 'data-period': m.period },
        h('h3', null, `${m.period} · ${t('gp_changed', { n: m.changed })}`),
        h('p', { class: 'muted' }, `${t('gp_now')}: ${classesLine(m.classes)}`),
        h('p', { class: 'muted' }, `${t('gp_draft')}: ${classesLine(m.draft_classes)}`),
        m.rows.length
          ? h(
              'div',
              { class: 'table-scroll' },
              h(
                'table',
                { class: 'table streets-table' },
                h('thead', null, h('tr', null, [t('st_street'), t('st_volume_rank'), t('st_rank'), t('gp_now'), t('gp_draft'), t('st_reason')].map((c) => h('th', { scope: 'col' }, c)))),
                h(
                  'tbody',
                  null,
                  m.rows.slice(0, 30).map((r) =>
                    h(
                      'tr',
                      { 'data-testid': 'gp-preview-row' },
                      h('td', { 'data-label': t('st_street') }, r.name),
                      h('td', { 'data-label': t('st_volume_rank'), class: 'num' }, String(r.volume_rank)),
                      h('td', { 'data-label': t('st_rank'), class: 'num' }, r.rank == null ? '—' : String(r.rank)),
                      h('td', { 'data-label': t('gp_now') }, lang() === 'zh' ? r.class_label : t(`st_class_${r.class}` as never)),
                      h('td', { 'data-label': t('gp_draft') }, lang() === 'zh' ? r.draft_class_label : t(`st_class_${r.draft_class}` as never)),
                      h('td', { 'data-label': t('st_reason') }, r.draft_reason),
                    ),
                  ),
                ),
              ),
            )
          : null,
      ),
    ),
  );
}

/** The section; `alive` stops late answers from drawing on a page left. */
export function policyPanel(kind: 'streets' | 'reply-audit', alive: () => boolean): HTMLElement {
  const body = h('div', null, loadingBlock());
  const section = h('section', { class: 'card gp-panel', 'data-testid': 'gp-panel', 'data-kind': kind }, h('h2', null, t(kind === 'streets' ? 'gp_title_streets' : 'gp_title_audit')), h('p', { class: 'muted' }, t('gp_lead')), body);
  const load = async (): Promise<void> => {
    let list: VersionList;
    try {
      list = await request<VersionList>('GET', `/api/v1/governance/policies/${kind}`);
    } catch (e) {
      if (alive()) mount(body, errorBlock(message(e), () => void load()));
      return;
    }
    if (!alive()) return;
    const shown = h('pre', { class: 'gp-fields', 'data-testid': 'gp-fields', style: 'white-space: pre-wrap; overflow-wrap: anywhere' });
    const show = (v: Version) => {
      shown.textContent = toToml(v.policy as Record<string, unknown>);
    };
    const current = list.versions.find((v) => v.current) ?? list.versions[list.versions.length - 1];
    show(current);
    const table = h(
      'div',
      { class: 'table-scroll' },
      h(
        'table',
        { class: 'table streets-table', 'data-testid': 'gp-versions' },
        h('thead', null, h('tr', null, [t('gp_version'), t('gp_id'), t('gp_from'), t('gp_author'), t('gp_at'), ''].map((c) => h('th', { scope: 'col' }, c)))),
        h(
          'tbody',
          null,
          [...list.versions].reverse().map((v) =>
            h(
              'tr',
              { 'data-testid': 'gp-version', 'data-version': String(v.version) },
              h('td', { 'data-label': t('gp_version'), class: 'num' }, String(v.version), v.current ? h('span', { class: 'badge ok', 'data-testid': 'gp-current' }, t('gp_current')) : null),
              h('td', { 'data-label': t('gp_id') }, v.id),
              h('td', { 'data-label': t('gp_from') }, v.effective_from),
              h('td', { 'data-label': t('gp_author') }, v.version === 0 ? t('gp_shipped') : v.author),
              h('td', { 'data-label': t('gp_at') }, v.created_at ? fmtTime(v.created_at) : '—'),
              h('td', null, button(t('gp_view'), { class: 'btn small', 'data-testid': 'gp-view', onclick: () => show(v) })),
            ),
          ),
        ),
      ),
    );
    const ta = textarea('toml', { rows: 12, spellcheck: false, class: 'mono', 'data-testid': 'gp-toml' });
    ta.value = toToml(current.policy as Record<string, unknown>, list.month);
    const out = h('div', { 'aria-live': 'polite' });
    const form = h('form', { class: 'gp-form', 'data-testid': 'gp-form', novalidate: true }, field(t('gp_new'), ta, { name: 'toml', hint: t('gp_hint', { month: list.month }), wide: true }));
    const fail = (e: unknown) => {
      const f = e instanceof ApiError ? e.field : undefined;
      const m = message(e);
      const text = f && f !== 'toml' && !m.includes(f) ? `${t('gp_field')} ${f}: ${m}` : m;
      showFieldError(form, 'toml', text);
      const err = form.querySelector('.field-error');
      if (err) err.setAttribute('data-testid', 'gp-error');
    };
    const previewBtn = button(t('gp_preview'), {
      class: 'btn',
      'data-testid': 'gp-preview-btn',
      onclick: async () => {
        clearErrors(form);
        mount(out, loadingBlock());
        try {
          const p = await request<Preview>('POST', '/api/v1/governance/policy-previews/streets', { toml: ta.value });
          if (alive()) mount(out, previewBlock(p));
        } catch (e) {
          mount(out);
          fail(e);
        }
      },
    });
    const submitBtn = button(t('gp_submit'), {
      class: 'btn primary',
      'data-testid': 'gp-submit',
      onclick: async () => {
        clearErrors(form);
        try {
          const v = await request<Version>('POST', `/api/v1/governance/policies/${kind}`, { toml: ta.value });
          toast(t('gp_stored', { v: v.version }));
          if (alive()) await load();
        } catch (e) {
          fail(e);
        }
      },
    });
    form.append(h('div', { class: 'actions', style: 'display: flex; gap: 0.5rem; flex-wrap: wrap' }, kind === 'streets' ? previewBtn : null, submitBtn));
    mount(body, table, h('details', { open: true }, h('summary', null, t('gp_fields')), shown), form, out);
  };
  void load();
  return section;
}
