// The duty catalogue (派单目录) admin page: the rules in force (search, filter), CSV export,
// CSV upload as a draft (a rejected file shows its line-numbered report), the lint report,
// the what-if preview of the draft and its publication.

import { api, ApiError, type CatalogueInfo, type CatalogueRule, type CatalogueVersion, type LintReport, type RuleFields, type RuleKey, type RulesQuery, type WhatIfReport } from '../api';
import { errorBlock, loadingBlock, pageHeader } from '../components';
import { button, field, h, input, mount, saveBlob, select, toast, type Child } from '../dom';
import { cityDay, fmtTime } from '../format';
import { lang, t, tMaybe } from '../i18n';
import type { PageCtx } from '../page';
import { countText, hashQuery, pageOf, pager, setHashQuery } from '../pager';
import { href, navigate } from '../router';
import { can, categoryPathText, enumLabel, enumOptions, loadCategories, loadDispatchUnits, loadUnits, TIERS, unitName } from '../store';

const TABS = ['rules', 'draft', 'lint', 'history'] as const;
type Tab = (typeof TABS)[number];
/** Who may change the draft (upload or edit rules in place); the server checks it too. */
const canEdit = () => can('catalogue-edit');

/** Lint of the last uploaded draft (the import answers with it), kept for this tab's session. */
const DRAFT_LINT_KEY = 'jiesu.draftLint';

function errText(e: unknown): string {
  return e instanceof ApiError ? e.text(lang()) : String(e);
}

// ---- unit references ----------------------------------------------------------------------------

/** Department slot (D03) → its generic name (市场监管局), from any district's department. */
let slotNames = new Map<string, string>();

async function warmUnitNames(): Promise<void> {
  const [units, districts] = await Promise.all([loadDispatchUnits().catch(() => []), loadUnits({ kind: 'district' }).catch(() => [])]);
  const dname = new Map(districts.map((d) => [d.code, d.name]));
  const slots = new Map<string, string>();
  for (const u of units) {
    const m = /^(\d{6})(D\d{2})$/.exec(u.code);
    if (!m || slots.has(m[2])) continue;
    const d = dname.get(m[1]) ?? '';
    slots.set(m[2], d && u.name.startsWith(d) ? u.name.slice(d.length) : u.name);
  }
  slotNames = slots;
}

interface RefView {
  role: string;
  ref: string;
  label: string;
  kind: 'street' | 'district' | 'city' | 'enterprise' | 'other';
}

function refView(role: string, ref: string): RefView {
  if (ref === '{street}') return { role, ref, label: t('cat_ref_street'), kind: 'street' };
  if (ref === '{district}') return { role, ref, label: t('cat_ref_district'), kind: 'district' };
  if (ref === '{ecommerce}') return { role, ref, label: t('cat_ref_ecommerce'), kind: 'enterprise' };
  const slot = /^\{district\}(D\d{2})$/.exec(ref);
  if (slot) {
    const name = slotNames.get(slot[1]);
    return { role, ref, label: name ? `${t('cat_ref_district')} · ${name}` : t('cat_ref_slot', { slot: slot[1] }), kind: 'district' };
  }
  const kind = ref.startsWith('CD') ? 'city' : /^(SE|EC)/.test(ref) ? 'enterprise' : /^\d{6}/.test(ref) ? 'district' : 'other';
  return { role, ref, label: unitName(ref), kind };
}

/** `lead:{street};assist:{district}D01` → the units, lead first. */
function parseAssignments(field: string): RefView[] {
  return field
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      const i = p.indexOf(':');
      return i < 0 ? refView('lead', p) : refView(p.slice(0, i), p.slice(i + 1));
    })
    .sort((a, b) => Number(a.role !== 'lead') - Number(b.role !== 'lead'));
}

function refChips(refs: RefView[]): HTMLElement {
  return h(
    'div',
    { class: 'ref-chips' },
    refs.map((r) =>
      h(
        'span',
        { class: `ref-chip ${r.role}`, title: r.ref, 'data-ref': r.ref },
        h('span', { class: 'ref-role' }, enumLabel('roles_in_assignment', r.role)),
        h('span', { class: 'ref-name' }, r.label),
      ),
    ),
  );
}

/** The scope text without its category part, codes followed by their names. */
function scopeText(r: CatalogueRule): string {
  // GET /catalogue puts the Chinese scope text in `place` and the English one in `category`
  let s = (lang() === 'zh' ? r.scope_zh ?? r.place : r.scope_en ?? r.category) ?? '';
  if (lang() === 'zh') s = s.replace(/^(分类 \S+|任意分类)( · )?/, '');
  else s = s.replace(/^(category \S+|any category)(, )?/, '');
  return s.replace(/\b(\d{6,12})\b/g, (code) => {
    const n = unitName(code);
    return n && n !== code ? `${n}（${code}）` : code;
  });
}

function keywordsText(k: unknown): string {
  if (Array.isArray(k)) return k.map(String).join(' + ');
  return typeof k === 'string' ? k : '';
}

function categoryText(r: CatalogueRule): string {
  const p = r.category_prefix ?? '';
  if (!p || p === '*') return t('cat_any_category');
  return categoryPathText(p);
}

// ---- page ----------------------------------------------------------------------------------------

export async function cataloguePage(ctx: PageCtx): Promise<void> {
  const { root, route, alive } = ctx;
  const tab: Tab = (TABS as readonly string[]).includes(route.query.get('tab') ?? '') ? (route.query.get('tab') as Tab) : 'rules';
  const exportBtn = button(t('cat_export'), { class: 'btn', 'data-testid': 'catalogue-export', onclick: () => void download(false, exportBtn) });
  const exportXlsx = button(t('cat_export_xlsx'), { class: 'btn', 'data-testid': 'catalogue-export-xlsx', onclick: () => void download(false, exportXlsx, true) });
  const summary = h('div', { class: 'stats cat-stats' });
  const body = h('div', { class: 'cat-body' }, loadingBlock());
  const tabs = h(
    'nav',
    { class: 'tabs', 'aria-label': t('cat_tabs') },
    TABS.map((k) =>
      h('a', { href: href('/catalogue', { tab: k === 'rules' ? undefined : k }), class: k === tab ? 'active' : null, 'aria-current': k === tab ? 'page' : null, 'data-tab': k }, t(`cat_tab_${k}` as const)),
    ),
  );
  mount(root, pageHeader(t('cat_title'), t('cat_lead'), exportBtn, exportXlsx), summary, tabs, body);

  let info: CatalogueInfo;
  try {
    [info] = await Promise.all([api.catalogue(), loadCategories().catch(() => null), warmUnitNames()]);
  } catch (e) {
    if (alive()) mount(body, errorBlock(errText(e), () => void cataloguePage(ctx)));
    return;
  }
  if (!alive()) return;
  renderSummary(summary, info);
  if (tab === 'rules') {
    // An edit of a rule in force goes into the draft (a new one is copied from the catalogue in force).
    const base = info.draft?.version ?? null;
    const saved = (r: { version: number; rules: number }) => {
      toast(t('cat_edit_saved', { v: r.version }));
      navigate('/catalogue?tab=draft');
    };
    rulesTab(body, 'published', {
      onEdit: canEdit() ? (r) => openRuleEditor({ initial: r.fields ?? null, baseVersion: base, onSaved: saved }) : undefined,
      onAdd: canEdit() ? () => openRuleEditor({ initial: null, baseVersion: base, onSaved: saved }) : undefined,
      note: canEdit() ? t('cat_edit_hint_published') : undefined,
    });
  }
  else if (tab === 'draft') draftTab(ctx, body, info);
  else if (tab === 'lint') await lintTab(ctx, body);
  else historyTab(body, info);
}

function renderSummary(el: HTMLElement, info: CatalogueInfo): void {
  const stat = (label: string, value: Child, tone = '', testid?: string) =>
    h('div', { class: `stat ${tone}`, 'data-testid': testid ?? null }, h('span', { class: 'stat-n' }, value), h('span', { class: 'stat-l' }, label));
  const draft = info.draft;
  mount(
    el,
    stat(t('cat_published'), info.published_rules, 'info', 'published-rules'),
    stat(t('cat_in_force'), info.rules.length, ''),
    stat(t('cat_draft'), draft ? h('a', { href: '#/catalogue?tab=draft' }, t('cat_draft_v', { v: draft.version })) : h('span', { class: 'muted' }, t('cat_no_draft')), draft ? 'soon' : ''),
    stat(t('cat_tab_history'), info.history.length, ''),
  );
}

async function download(draft: boolean, btn: HTMLButtonElement, xlsx = false): Promise<void> {
  btn.disabled = true;
  try {
    const blob = xlsx ? await api.exportCatalogueXlsx(draft) : new Blob([await api.exportCatalogue(draft)], { type: 'text/csv;charset=utf-8' });
    const name = `${draft ? 'catalogue-draft' : 'catalogue'}.${xlsx ? 'xlsx' : 'csv'}`;
    saveBlob(blob, name);
    toast(t('cat_exported', { name }));
  } catch (e) {
    toast(errText(e), 'error');
  } finally {
    btn.disabled = false;
  }
}

// ---- rules in force ---------------------------------------------------------------------------------

interface RuleRow {
  rule: CatalogueRule;
  refs: RefView[];
}

interface RulesOpts {
  onEdit?: (r: CatalogueRule) => void;
  onRemove?: (r: CatalogueRule) => void;
  onAdd?: () => void;
  note?: string;
}

/** The orders of a rule list (`sort` in the URL; the server sorts). */
const RULE_SORTS = ['catalogue', 'from'] as const;

/**
 * A catalogue's rules a page at a time, searched and filtered by the server: `published` lists
 * the rules in force today, a draft version all its rule versions. Search, tier, lead kind, order
 * and page are kept in the URL (`#/catalogue?q=供暖&tier=24h&page=4`).
 */
function rulesTab(body: HTMLElement, version: number | 'published', opts: RulesOpts = {}): void {
  const asked = hashQuery();
  const q = input('q', { type: 'search', placeholder: t('cat_search_ph'), 'data-testid': 'rule-search', autocomplete: 'off', value: asked.get('q') ?? '' });
  const tier = select('tier', enumOptions('tiers', TIERS), { placeholder: t('filter_all'), value: asked.get('tier') ?? '' });
  const kind = select(
    'kind',
    (['street', 'district', 'city', 'enterprise'] as const).map((k) => ({ value: k, label: t(`cat_kind_${k}`) })),
    { placeholder: t('filter_all'), value: asked.get('kind') ?? '' },
  );
  const askedSort = asked.get('sort') ?? '';
  const sort = select('sort', RULE_SORTS.map((k) => ({ value: k, label: t(`cat_sort_${k}`) })), { value: (RULE_SORTS as readonly string[]).includes(askedSort) ? askedSort : 'catalogue' });
  const count = h('span', { class: 'muted small', 'aria-live': 'polite', 'data-testid': 'rule-count' });
  const tableBox = h('div', { class: 'card flush table-scroll' }, loadingBlock());
  const pagerBox = h('div');
  let page = pageOf(asked);
  let asking = '';

  const wanted = (): RulesQuery => ({
    q: q.value.trim() || undefined,
    tier: tier.value || undefined,
    kind: kind.value || undefined,
    sort: sort.value === 'catalogue' ? undefined : sort.value,
    in_force: version === 'published' ? true : undefined,
    page,
  });
  const load = async () => {
    const want = wanted();
    const key = JSON.stringify(want);
    asking = key;
    try {
      const r = await api.draftRules(version, want);
      // the filters changed meanwhile, or the list is gone
      if (asking !== key || !tableBox.isConnected) return;
      count.textContent = t('cat_matching', { n: countText(r.total) });
      mount(
        pagerBox,
        r.total > r.page_size || page > 1
          ? pager(page, r.page_size, r.total, (p) => {
              page = p;
              setHashQuery({ page: p }, 'push');
              void load();
              tableBox.scrollIntoView({ block: 'nearest' });
            }, 'rules-pager')
          : null,
      );
      if (!r.rules.length) {
        mount(tableBox, h('div', { class: 'empty-state' }, page > 1 && r.total ? t('list_page_empty') : t('cat_no_rules')));
        return;
      }
      mount(tableBox, rulesTable(r.rules.map((rule) => ({ rule, refs: parseAssignments(rule.assignments ?? '') })), opts));
    } catch (e) {
      if (asking === key && tableBox.isConnected) mount(tableBox, errorBlock(errText(e), () => void load()));
    }
  };
  /** A filter changed: page 1, written into the URL in place (typing adds no history entries). */
  const refilter = () => {
    page = 1;
    const w = wanted();
    setHashQuery({ q: w.q, tier: w.tier, kind: w.kind, sort: w.sort, page: undefined }, 'replace');
    void load();
  };
  let timer = 0;
  q.addEventListener('input', () => {
    clearTimeout(timer);
    timer = window.setTimeout(refilter, 250);
  });
  tier.addEventListener('change', refilter);
  kind.addEventListener('change', refilter);
  sort.addEventListener('change', refilter);
  mount(
    body,
    h(
      'div',
      { class: 'card filters cat-filters' },
      h('div', { class: 'cat-filter-grid' }, field(t('cat_search'), q, { wide: true }), field(t('cat_filter_tier'), tier), field(t('cat_filter_kind'), kind), field(t('cat_sort'), sort)),
      h(
        'div',
        { class: 'actions-row' },
        count,
        opts.note ? h('span', { class: 'muted small' }, opts.note) : null,
        opts.onAdd ? button(t('cat_add_rule'), { class: 'btn small', 'data-testid': 'add-rule', onclick: () => opts.onAdd?.() }) : null,
      ),
    ),
    tableBox,
    pagerBox,
  );
  void load();
}

function rulesTable(rows: RuleRow[], opts: RulesOpts = {}): HTMLElement {
  const actions = !!(opts.onEdit || opts.onRemove);
  return h(
    'table',
    { class: 'table rules-table', 'data-testid': 'rules-table' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        [t('cat_col_id'), t('cat_col_category'), t('cat_col_scope'), t('cat_col_units'), t('cat_col_tier'), t('cat_col_from'), t('cat_col_note'), ...(actions ? [t('cat_col_actions')] : [])].map((c) =>
          h('th', { scope: 'col' }, c),
        ),
      ),
    ),
    h(
      'tbody',
      null,
      rows.map(({ rule: r, refs }) =>
        h(
          'tr',
          { 'data-rule': r.id },
          h('td', { 'data-label': t('cat_col_id') }, h('code', { class: 'rule-id' }, r.id)),
          h(
            'td',
            { 'data-label': t('cat_col_category'), class: 'small' },
            h('div', null, categoryText(r)),
            r.category_prefix && r.category_prefix !== '*' ? h('div', { class: 'muted mono' }, r.category_prefix) : null,
          ),
          h(
            'td',
            { 'data-label': t('cat_col_scope'), class: 'small' },
            scopeText(r) || '—',
            keywordsText(r.keywords) ? h('div', { class: 'kw' }, h('span', { class: 'muted' }, `${t('cat_col_keywords')}：`), keywordsText(r.keywords)) : null,
          ),
          h('td', { 'data-label': t('cat_col_units') }, refChips(refs)),
          h('td', { 'data-label': t('cat_col_tier') }, h('span', { class: `tag tier-${r.tier}` }, enumLabel('tiers', r.tier))),
          h('td', { 'data-label': t('cat_col_from'), class: 'small mono nowrap' }, r.effective_from),
          h('td', { 'data-label': t('cat_col_note'), class: 'small note-cell' }, r.note ?? ''),
          actions
            ? h(
                'td',
                { 'data-label': t('cat_col_actions'), class: 'nowrap' },
                opts.onEdit ? button(t('cat_edit'), { class: 'btn small', 'data-testid': 'edit-rule', onclick: () => opts.onEdit?.(r) }) : null,
                opts.onRemove ? button(t('cat_remove'), { class: 'btn small danger', 'data-testid': 'remove-rule', onclick: () => opts.onRemove?.(r) }) : null,
              )
            : null,
        ),
      ),
    ),
  );
}

// ---- draft: upload, what-if, publish ---------------------------------------------------------------

interface Problem {
  line: string;
  column: string;
  message: string;
}

/** The line-numbered problems of a rejected import (`detail`: one "  line N [column]: message" per line). */
export function parseProblems(detail: string): { head: string; problems: Problem[] } {
  const lines = detail.split('\n');
  const problems: Problem[] = [];
  const rest: string[] = [];
  for (const l of lines) {
    const m = /^\s*lines? (\d+(?:\s*(?:and|,|&)\s*\d+)*)\s*(?:\[([^\]]*)\])?\s*:\s*(.*)$/i.exec(l);
    if (m) problems.push({ line: m[1].replace(/\s*and\s*/g, ', '), column: m[2] ?? '', message: m[3] });
    else if (l.trim()) rest.push(l.trim());
  }
  return { head: rest.join(' '), problems };
}

function importReport(e: ApiError): HTMLElement {
  const { problems } = parseProblems(e.detail ?? '');
  return h(
    'div',
    { class: 'import-report', role: 'alert', 'data-testid': 'import-report' },
    h('h3', null, problems.length ? t('cat_rejected', { n: problems.length }) : t('cat_rejected_plain')),
    problems.length
      ? h(
          'table',
          { class: 'table compact problems' },
          h('thead', null, h('tr', null, h('th', { scope: 'col', class: 'col-line' }, t('cat_col_line')), h('th', { scope: 'col', class: 'col-column' }, t('cat_col_column')), h('th', { scope: 'col' }, t('cat_col_problem')))),
          h(
            'tbody',
            null,
            problems.map((p) =>
              h('tr', { 'data-line': p.line }, h('td', { class: 'mono nowrap' }, p.line), h('td', { class: 'mono' }, p.column || '—'), h('td', null, p.message)),
            ),
          ),
        )
      : h('p', { class: 'prewrap' }, e.detail || e.text(lang())),
  );
}

function uploadCard(onDone: (r: { version: number; rules: number; lint: LintReport }) => void): HTMLElement {
  const file = h('input', { type: 'file', name: 'csv', accept: '.csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'data-testid': 'catalogue-file' });
  const result = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'btn primary', 'data-testid': 'catalogue-upload' }, t('cat_upload'));
  const form = h(
    'form',
    { class: 'card upload-card', novalidate: true },
    h('h2', null, t('cat_upload_title')),
    h('p', { class: 'muted small' }, t('cat_upload_hint')),
    h('div', { class: 'upload-row' }, field(t('cat_file'), file, { name: 'csv' }), submit),
    result,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    mount(result);
    const f = file.files?.[0];
    if (!f) {
      mount(result, h('div', { class: 'alert error', role: 'alert' }, t('cat_pick_file')));
      return;
    }
    submit.disabled = true;
    submit.textContent = t('cat_uploading');
    try {
      // the file's bytes as they are: the server checks the encoding itself (a GBK file is refused
      // with its line) and reads an xlsx workbook row for row
      const r = await api.importCatalogue(f);
      mount(result, h('div', { class: 'alert ok', role: 'status', 'data-testid': 'import-ok' }, t('cat_draft_created', { v: r.version, n: r.rules })));
      onDone(r);
    } catch (e) {
      if (e instanceof ApiError && e.status === 422) mount(result, importReport(e));
      else mount(result, h('div', { class: 'alert error', role: 'alert' }, errText(e)));
    } finally {
      submit.disabled = false;
      submit.textContent = t('cat_upload');
    }
  });
  return form;
}

function draftTab(ctx: PageCtx, body: HTMLElement, info: CatalogueInfo): void {
  const draft = info.draft;
  const canPublish = can('catalogue-publish');
  const upload = uploadCard((r) => {
    sessionStorage.setItem(DRAFT_LINT_KEY, JSON.stringify({ version: r.version, lint: r.lint }));
    // reload to show the new draft, its lint and the what-if
    setTimeout(() => {
      if (ctx.alive()) void cataloguePage(ctx).then(() => {
        // the confirmation goes on top of the new draft's card
        ctx.root.querySelector('[data-testid=draft-card]')?.prepend(h('div', { class: 'alert ok', role: 'status', 'data-testid': 'import-ok' }, '✓ ', t('cat_draft_created', { v: r.version, n: r.rules })));
      });
    }, 0);
  });
  if (!draft) {
    mount(body, h('div', { class: 'card empty-state', 'data-testid': 'no-draft' }, t('cat_draft_none'), canEdit() ? h('p', { class: 'muted small' }, t('cat_draft_none_edit')) : null), canEdit() ? upload : null);
    return;
  }
  let draftLint: LintReport | null = null;
  try {
    const saved = JSON.parse(sessionStorage.getItem(DRAFT_LINT_KEY) ?? 'null');
    if (saved?.version === draft.version) draftLint = saved.lint;
  } catch {
    /* ignore */
  }
  const exportDraft = button(t('cat_export_draft'), { class: 'btn small', onclick: () => void download(true, exportDraft) });
  const exportDraftXlsx = button(t('cat_export_draft_xlsx'), { class: 'btn small', onclick: () => void download(true, exportDraftXlsx, true) });
  const months = select(
    'months',
    [1, 3, 6, 12].map((n) => ({ value: String(n), label: t('cat_months_n', { n }) })),
    { value: '1' },
  );
  const wiBox = h('div', { class: 'whatif', 'aria-live': 'polite' });
  const runBtn = h('button', { type: 'submit', class: 'btn', 'data-testid': 'run-whatif' }, t('cat_run_whatif'));
  const wiForm = h(
    'form',
    { class: 'whatif-form', novalidate: true },
    field(t('cat_months'), months, { name: 'months' }),
    runBtn,
  );
  wiForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    runBtn.disabled = true;
    mount(wiBox, loadingBlock());
    try {
      const rep = await api.whatif(draft.version, Number(months.value));
      if (ctx.alive()) mount(wiBox, whatIfView(rep));
    } catch (e) {
      if (ctx.alive()) mount(wiBox, errorBlock(errText(e)));
    } finally {
      runBtn.disabled = false;
    }
  });
  const draftRulesBox = h('div', null, loadingBlock());
  const publishBtn = button(t('cat_publish'), {
    class: 'btn primary',
    'data-testid': 'publish-draft',
    disabled: !canPublish,
    title: canPublish ? null : t('cat_publish_role'),
    onclick: async () => {
      if (!confirm(t('cat_publish_confirm', { v: draft.version }))) return;
      publishBtn.disabled = true;
      try {
        const r = await api.publish(draft.version);
        toast(t('cat_published_ok', { v: r.version, n: r.rules }));
        sessionStorage.removeItem(DRAFT_LINT_KEY);
        if (ctx.alive()) await cataloguePage(ctx);
      } catch (e) {
        toast(errText(e), 'error');
        publishBtn.disabled = false;
      }
    },
  });
  mount(
    body,
    h(
      'section',
      { class: 'card draft-card', 'data-testid': 'draft-card', 'data-version': draft.version },
      h(
        'div',
        { class: 'draft-head' },
        h('div', null, h('h2', null, t('cat_draft'), ' ', h('span', { class: 'badge warn' }, t('cat_draft_v', { v: draft.version }))), h('p', { class: 'muted small' }, t('cat_draft_info', { v: draft.version, n: draft.rules, by: draft.created_by, at: fmtTime(draft.created_at) }))),
        h('div', { class: 'actions-row' }, exportDraft, exportDraftXlsx, publishBtn),
      ),
      canPublish ? null : h('p', { class: 'muted small' }, t('cat_publish_role')),
      draftLint ? h('div', { class: 'draft-lint' }, h('h3', null, t('cat_lint_of_draft')), lintSummary(draftLint)) : null,
      // the what-if and the upload are the editors' (catalogue-edit); viewers see the draft only
      canEdit() ? h('h3', null, t('cat_whatif')) : null,
      canEdit() ? h('p', { class: 'muted small' }, t('cat_whatif_hint')) : null,
      canEdit() ? wiForm : null,
      canEdit() ? wiBox : null,
    ),
    h('section', { class: 'draft-rules', 'data-testid': 'draft-rules' }, h('h2', null, t('cat_draft_rules', { v: draft.version })), draftRulesBox),
    canEdit() ? upload : null,
  );
  loadDraftRules(ctx, draftRulesBox, draft.version);
}

/** The draft's own rules, each editable or removable in place. */
function loadDraftRules(ctx: PageCtx, box: HTMLElement, version: number): void {
  const reload = (r: { version: number; rules: number; lint: LintReport }) => {
    sessionStorage.setItem(DRAFT_LINT_KEY, JSON.stringify({ version: r.version, lint: r.lint }));
    toast(t('cat_edit_saved', { v: r.version }));
    if (ctx.alive()) void cataloguePage(ctx);
  };
  const editable = canEdit();
  rulesTab(box, version, {
    onEdit: editable ? (r) => openRuleEditor({ initial: r.fields ?? null, baseVersion: version, onSaved: reload }) : undefined,
    onAdd: editable ? () => openRuleEditor({ initial: null, baseVersion: version, onSaved: reload }) : undefined,
    onRemove: editable
      ? async (r) => {
          if (!confirm(t('cat_remove_confirm', { id: r.id, from: r.effective_from }))) return;
          try {
            reload(await api.editDraft(version, { op: 'remove', key: { id: r.id, effective_from: r.effective_from } }));
          } catch (e) {
            toast(errText(e), 'error');
          }
        }
      : undefined,
  });
}

// ---- the inline rule editor ----------------------------------------------------------------------

const EMPTY_RULE: RuleFields = {
  id: '',
  effective_from: cityDay(new Date()),
  effective_to: '',
  priority: '0',
  category_prefix: '',
  place: '*',
  keywords: '',
  enterprise: '',
  assignments: 'lead:{street}',
  tier: '7d',
  note: '',
};

/**
 * A dialog with the rule's columns. Saving sends one edit to the server, which checks the rule
 * exactly like a row of an imported file and answers the new draft, or every problem by column.
 */
function openRuleEditor(o: { initial: RuleFields | null; baseVersion: number | null; onSaved: (r: { version: number; rules: number; lint: LintReport }) => void }): void {
  const init = o.initial ?? EMPTY_RULE;
  const replaces: RuleKey | null = o.initial ? { id: o.initial.id, effective_from: o.initial.effective_from } : null;
  const inputs = {
    id: input('id', { value: init.id, required: true, autocomplete: 'off', 'data-testid': 'rule-id' }),
    effective_from: input('effective_from', { type: 'date', value: init.effective_from, required: true }),
    effective_to: input('effective_to', { type: 'date', value: init.effective_to }),
    priority: input('priority', { type: 'number', step: '1', value: init.priority || '0' }),
    category_prefix: input('category_prefix', { value: init.category_prefix, list: 'cat-codes', autocomplete: 'off', 'data-testid': 'rule-category' }),
    place: input('place', { value: init.place, autocomplete: 'off', 'data-testid': 'rule-place' }),
    keywords: input('keywords', { value: init.keywords, autocomplete: 'off' }),
    enterprise: select(
      'enterprise',
      [
        { value: '', label: t('cat_ent_any') },
        { value: 'yes', label: t('cat_ent_yes') },
        { value: 'no', label: t('cat_ent_no') },
      ],
      { value: init.enterprise },
    ),
    assignments: input('assignments', { value: init.assignments, required: true, autocomplete: 'off', 'data-testid': 'rule-assignments' }),
    tier: select('tier', enumOptions('tiers', TIERS), { value: init.tier }),
    note: input('note', { value: init.note, autocomplete: 'off' }),
  };
  const catName = h('div', { class: 'hint', 'aria-live': 'polite' });
  const showCat = () => {
    const c = inputs.category_prefix.value.trim();
    catName.textContent = !c || c === '*' ? t('cat_any_category') : categoryPathText(c) !== c ? categoryPathText(c) : t('cat_unknown_code');
  };
  inputs.category_prefix.addEventListener('input', showCat);
  showCat();
  const codes = h('datalist', { id: 'cat-codes' });
  void loadCategories().then((idx) => {
    for (const [code, c] of idx.byCode) codes.append(h('option', { value: code }, c.path.join(' › ')));
  });
  const problems = h('div', { 'aria-live': 'polite' });
  const save = h('button', { type: 'submit', class: 'btn primary', 'data-testid': 'save-rule' }, t('cat_save_to_draft'));
  const cancel = button(t('cancel'), { class: 'btn', onclick: () => dlg.close() });
  const f = (k: keyof typeof inputs, label: string, hint?: string, wide = false) => field(label, inputs[k], { name: k, hint, wide });
  const form = h(
    'form',
    { class: 'rule-editor', novalidate: true, method: 'dialog' },
    h('h2', null, o.initial ? t('cat_edit_title', { id: o.initial.id }) : t('cat_add_rule')),
    h('p', { class: 'muted small' }, o.baseVersion ? t('cat_edit_into_draft', { v: o.baseVersion }) : t('cat_edit_new_draft')),
    h(
      'div',
      { class: 'form-grid' },
      f('id', t('cat_col_id')),
      f('priority', t('cat_f_priority'), t('cat_f_priority_hint')),
      f('effective_from', t('cat_col_from')),
      f('effective_to', t('cat_f_to'), t('cat_f_to_hint')),
      h('div', { class: 'field wide', 'data-field': 'category_prefix' }, field(t('cat_col_category'), inputs.category_prefix, { name: 'category_prefix', hint: t('cat_f_category_hint') }), catName),
      f('place', t('cat_col_scope'), t('cat_f_place_hint'), true),
      f('keywords', t('cat_col_keywords'), t('cat_f_keywords_hint'), true),
      f('enterprise', t('cat_f_enterprise')),
      f('tier', t('cat_col_tier')),
      f('assignments', t('cat_col_units'), t('cat_f_assignments_hint'), true),
      f('note', t('cat_col_note'), undefined, true),
    ),
    codes,
    problems,
    h('div', { class: 'actions-row' }, save, cancel),
  );
  const dlg = h('dialog', { class: 'dialog rule-dialog', 'data-testid': 'rule-editor', 'aria-label': t('cat_edit_rule') }, form) as HTMLDialogElement;
  dlg.addEventListener('close', () => dlg.remove());
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    mount(problems);
    const rule = Object.fromEntries(Object.entries(inputs).map(([k, el]) => [k, el.value.trim()])) as unknown as RuleFields;
    save.disabled = true;
    try {
      const r = await api.editDraft(o.baseVersion, { op: 'upsert', rule, replaces });
      dlg.close();
      o.onSaved(r);
    } catch (e) {
      const list = e instanceof ApiError && Array.isArray(e.body.problems) ? (e.body.problems as { column?: string; message: string; rule?: string; other_rule?: string }[]) : [];
      mount(
        problems,
        h(
          'div',
          { class: 'alert error', role: 'alert', 'data-testid': 'rule-problems' },
          h('strong', null, t('cat_edit_rejected')),
          list.length
            ? h(
                'ul',
                null,
                list.map((p) => h('li', null, p.column ? h('code', null, p.column) : null, p.column ? ' ' : null, p.other_rule ? `${p.rule} ↔ ${p.other_rule}: ` : '', p.message)),
              )
            : h('p', null, errText(e)),
        ),
      );
      problems.scrollIntoView({ block: 'nearest' });
    } finally {
      save.disabled = false;
    }
  });
  document.body.append(dlg);
  dlg.showModal();
  inputs.id.focus();
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

function whatIfView(r: WhatIfReport): HTMLElement {
  const figure = (label: string, value: Child, sub?: Child, tone = '') =>
    h('div', { class: `stat ${tone}` }, h('span', { class: 'stat-n' }, value), h('span', { class: 'stat-l' }, label), sub ? h('span', { class: 'stat-sub muted small' }, sub) : null);
  const loadTable = (title: string, rows: WhatIfReport['gainers'], tone: string) =>
    h(
      'div',
      { class: 'wi-col' },
      h('h4', null, title),
      rows.length
        ? h(
            'table',
            { class: 'table compact' },
            h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('sup_col_unit')), h('th', { scope: 'col', class: 'num' }, t('cat_wi_current')), h('th', { scope: 'col', class: 'num' }, t('cat_wi_draft')), h('th', { scope: 'col', class: 'num' }, t('cat_wi_delta')))),
            h(
              'tbody',
              null,
              rows.map((u) =>
                h('tr', null, h('td', null, u.unit_name || unitName(u.unit_code), h('span', { class: 'muted small mono' }, ` ${u.unit_code}`)), h('td', { class: 'num' }, u.current), h('td', { class: 'num' }, u.draft), h('td', { class: `num delta ${tone}` }, u.delta > 0 ? `+${u.delta}` : String(u.delta))),
              ),
            ),
          )
        : h('p', { class: 'muted small' }, t('cat_wi_none')),
    );
  return h(
    'div',
    { class: 'whatif-report', 'data-testid': 'whatif-report' },
    h(
      'div',
      { class: 'stats' },
      figure(t('cat_wi_tickets'), r.tickets),
      figure(t('cat_wi_changed'), r.changed_lead, t('cat_wi_share', { p: pct(r.changed_share) }), r.changed_lead ? 'soon' : ''),
      figure(t('cat_wi_tier'), r.changed_tier),
      figure(t('cat_wi_agree'), `${pct(r.agree_actual_current)} → ${pct(r.agree_actual_draft)}`, t('cat_wi_with_actual', { n: r.with_actual })),
    ),
    h('div', { class: 'wi-grid' }, loadTable(t('cat_wi_gainers'), r.gainers, 'up'), loadTable(t('cat_wi_losers'), r.losers, 'down')),
    h(
      'div',
      { class: 'wi-col' },
      h('h4', null, t('cat_wi_by_tier'), ' ', h('span', { class: 'muted small' }, `${t('cat_wi_hours')}: ${r.mean_tier_hours_current.toFixed(1)} h → ${r.mean_tier_hours_draft.toFixed(1)} h`)),
      h(
        'table',
        { class: 'table compact tier-table' },
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('cat_col_tier')), h('th', { scope: 'col', class: 'num' }, t('cat_wi_current')), h('th', { scope: 'col', class: 'num' }, t('cat_wi_draft')), h('th', { scope: 'col', class: 'num' }, t('cat_wi_delta')))),
        h(
          'tbody',
          null,
          r.by_tier.map((x) => h('tr', null, h('td', null, enumLabel('tiers', x.tier)), h('td', { class: 'num' }, x.current), h('td', { class: 'num' }, x.draft), h('td', { class: 'num' }, x.draft - x.current > 0 ? `+${x.draft - x.current}` : String(x.draft - x.current)))),
        ),
      ),
    ),
    r.sample.length
      ? h(
          'details',
          { class: 'sg-more' },
          h('summary', null, `${t('cat_wi_sample')}（${r.sample.length}）`),
          h(
            'table',
            { class: 'table compact' },
            h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('cat_col_category')), h('th', { scope: 'col' }, t('cat_col_street')), h('th', { scope: 'col' }, t('cat_wi_from')), h('th', { scope: 'col' }, t('cat_wi_to')))),
            h(
              'tbody',
              null,
              r.sample.map((m) =>
                h(
                  'tr',
                  null,
                  h('td', { class: 'small' }, categoryPathText(m.category_code)),
                  h('td', { class: 'small' }, unitName(m.street_code)),
                  h('td', { class: 'small' }, m.from_unit ? unitName(m.from_unit) : '—', m.from_rule ? h('code', { class: 'muted' }, ` ${m.from_rule}`) : null),
                  h('td', { class: 'small' }, m.to_unit ? unitName(m.to_unit) : '—', m.to_rule ? h('code', { class: 'muted' }, ` ${m.to_rule}`) : null),
                ),
              ),
            ),
          ),
        )
      : null,
    h('details', { class: 'sg-more' }, h('summary', null, t('cat_wi_summary')), h('pre', { class: 'summary-text', 'data-testid': 'whatif-summary' }, r.summary)),
  );
}

// ---- lint ------------------------------------------------------------------------------------------

function lintSummary(r: LintReport): HTMLElement {
  const clean = !r.conflicts.length && !r.gaps.gaps && !r.retired_units.length;
  if (clean) return h('div', { class: 'alert ok', 'data-testid': 'lint-clean' }, '✓ ', t('cat_lint_clean'), h('div', { class: 'muted small' }, t('cat_lint_on', { on: r.on, total: r.rules_total, force: r.rules_in_force })));
  return h(
    'div',
    { class: 'lint-chips' },
    h('span', { class: `badge ${r.conflicts.length ? 'warn' : 'ok'}` }, `${t('cat_conflicts')} ${r.conflicts.length}`),
    h('span', { class: `badge ${r.gaps.gaps ? 'warn' : 'ok'}` }, `${t('cat_gaps')} ${r.gaps.gaps}`),
    h('span', { class: `badge ${r.retired_units.length ? 'warn' : 'ok'}` }, `${t('cat_retired')} ${r.retired_units.length}`),
  );
}

async function lintTab(ctx: PageCtx, body: HTMLElement): Promise<void> {
  mount(body, loadingBlock());
  let r: LintReport;
  try {
    r = await api.lint();
  } catch (e) {
    if (ctx.alive()) mount(body, errorBlock(errText(e), () => void lintTab(ctx, body)));
    return;
  }
  if (!ctx.alive()) return;
  const section = (title: string, n: number, hint: string, content: Child, testid: string) =>
    h(
      'section',
      { class: 'card lint-section', 'data-testid': testid },
      h('h2', null, title, ' ', h('span', { class: `badge ${n ? 'warn' : 'ok'}` }, String(n))),
      h('p', { class: 'muted small' }, hint),
      n ? content : h('p', { class: 'ok-text' }, '✓ ', t('cat_none_found')),
    );
  const simple = (heads: string[], rows: Child[][]) =>
    h('table', { class: 'table compact' }, h('thead', null, h('tr', null, heads.map((x) => h('th', { scope: 'col' }, x)))), h('tbody', null, rows.map((cells) => h('tr', null, cells.map((c) => h('td', null, c))))));
  mount(
    body,
    h(
      'div',
      { class: 'card lint-head', 'data-testid': 'lint-report' },
      lintSummary(r),
      r.conflicts.length || r.gaps.gaps || r.retired_units.length ? h('p', { class: 'muted small' }, t('cat_lint_on', { on: r.on, total: r.rules_total, force: r.rules_in_force })) : null,
    ),
    section(
      t('cat_conflicts'),
      r.conflicts.length,
      t('cat_conflicts_hint'),
      simple(
        [t('cat_col_rule_a'), t('cat_col_rule_b'), t('cat_col_reason')],
        r.conflicts.map((c) => [h('code', null, c.rule_a), h('code', null, c.rule_b), c.reason]),
      ),
      'lint-conflicts',
    ),
    section(
      t('cat_gaps'),
      r.gaps.gaps,
      t('cat_gaps_hint', { gaps: r.gaps.gaps, cells: r.gaps.cells }),
      h(
        'div',
        { class: 'wi-grid' },
        h('div', null, h('h4', null, t('cat_gaps_by_cat')), simple([t('cat_col_category'), t('cat_col_count')], (r.gaps.by_top_category ?? []).map(([c, n, k]) => [`${n} (${c})`, String(k)]))),
        h('div', null, h('h4', null, t('cat_gaps_by_district')), simple([t('sup_col_district'), t('cat_col_count')], (r.gaps.by_district ?? []).map(([c, n, k]) => [`${n} (${c})`, String(k)]))),
        h(
          'div',
          { class: 'span2' },
          h('h4', null, t('cat_gaps_sample')),
          simple(
            [t('cat_col_category'), t('cat_col_street')],
            r.gaps.sample.map((g) => [`${g.category_name} (${g.category_code})`, `${g.street_name} (${g.street_code})`]),
          ),
        ),
      ),
      'lint-gaps',
    ),
    section(
      t('cat_retired'),
      r.retired_units.length,
      '',
      simple(
        [t('cat_col_id'), t('cat_col_from'), t('cat_col_unit_ref'), t('sup_col_unit')],
        r.retired_units.map((x) => [h('code', null, x.rule_id), x.effective_from, h('code', null, x.unit_ref), [x.unit_name || x.unit_code, x.missing ? h('span', { class: 'badge warn' }, t('cat_retired_missing')) : null]]),
      ),
      'lint-retired',
    ),
  );
}

// ---- history ---------------------------------------------------------------------------------------

function historyTab(body: HTMLElement, info: CatalogueInfo): void {
  const status = (v: CatalogueVersion) => {
    const s = v.status ?? '';
    const tone = s === 'published' ? 'ok' : s === 'draft' ? 'warn' : 'muted';
    return h('span', { class: `badge ${tone}` }, tMaybe(`cat_status_${s}`) ?? s);
  };
  mount(
    body,
    h(
      'div',
      { class: 'card flush' },
      h(
        'table',
        { class: 'table middle', 'data-testid': 'history-table' },
        h(
          'thead',
          null,
          h('tr', null, [t('cat_col_version'), t('cat_col_status'), t('cat_col_rules'), t('cat_col_created'), t('cat_col_by'), t('cat_col_note')].map((c) => h('th', { scope: 'col' }, c))),
        ),
        h(
          'tbody',
          null,
          info.history.map((v) =>
            h(
              'tr',
              { 'data-version': v.version },
              h('td', { class: 'mono' }, `v${v.version}`),
              h('td', null, status(v)),
              h('td', { class: 'num' }, v.rules),
              h('td', { class: 'small' }, fmtTime(v.created_at)),
              h('td', { class: 'small' }, v.created_by),
              h('td', { class: 'small' }, v.note ?? ''),
            ),
          ),
        ),
      ),
    ),
  );
}
