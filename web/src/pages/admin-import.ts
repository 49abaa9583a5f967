// 历史数据导入 (#/admin, capability `legacy-import`): the admin uploads another system's CSV
// export with a mapping (a TOML file, or one shipped with Jiesu), runs it dry to see the report
// (rows mapped fully / partly / not and why, values no table maps), then imports it. A bad file
// is shown as its line-numbered problems; nothing is imported from it.

import { ApiError, request } from '../api';
import { button, field, h, input, mount, select, toast } from '../dom';
import type { operations } from '../generated/api-types';
import { lang, t } from '../i18n';

type Ok<K extends keyof operations, C extends number = 200> = operations[K] extends { responses: { [k in C]: { content: { 'application/json': infer T } } } } ? T : never;
type Examples = Ok<'get_admin_imports_examples'>;
type Report = Ok<'post_admin_imports'>;
type Body = operations['post_admin_imports']['requestBody'] extends { content: { 'application/json': infer B } } | undefined ? B : never;

const OWN = '';

/** The bytes of a file as base64 (the file's encoding is kept: the server detects it). */
async function base64Of(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function grid(testid: string, heads: string[], rows: (string | number)[][]): HTMLElement {
  return h(
    'div',
    { class: 'table-scroll' },
    h(
      'table',
      { class: 'table admin-table', 'data-testid': testid },
      h('thead', null, h('tr', null, heads.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, rows.map((r) => h('tr', null, r.map((c, i) => h('td', { 'data-label': heads[i] }, String(c)))))),
    ),
  );
}

function reportView(r: Report): HTMLElement {
  const counts: [string, number][] = [
    [t('imp_rows'), r.rows],
    [t('imp_already'), r.already_imported],
    [t('imp_fully'), r.mapped_fully],
    [t('imp_partly'), r.mapped_partly],
    [t('imp_not'), r.not_mapped],
    [t('imp_imported'), r.imported],
  ];
  const parts: HTMLElement[] = [
    h('p', { 'data-testid': 'imp-summary' }, r.dry_run ? t('imp_dry_done') : t('imp_done'), ` ${r.file} · ${r.source} · ${r.encoding}`),
    grid('imp-counts', [t('imp_what'), t('imp_count')], counts),
  ];
  const fb = Object.entries(r.fallbacks).sort((a, b) => b[1] - a[1]);
  if (fb.length) parts.push(h('h3', null, t('imp_fallbacks')), grid('imp-fallbacks', [t('imp_reason'), t('imp_count')], fb));
  const unmapped = Object.entries(r.unmapped_values).flatMap(([f, vals]) => Object.entries(vals).map(([v, n]) => [f, v || '∅', n] as [string, string, number]));
  unmapped.sort((a, b) => b[2] - a[2]);
  if (unmapped.length) parts.push(h('h3', null, t('imp_unmapped')), grid('imp-unmapped', [t('imp_field'), t('imp_value'), t('imp_count')], unmapped.slice(0, 100)));
  if (r.not_mapped_rows.length)
    parts.push(
      h('h3', null, t('imp_not_rows')),
      grid('imp-not-rows', [t('imp_line'), t('imp_key'), t('imp_reason')], r.not_mapped_rows.slice(0, 200).map((n) => [n.line, n.key, n.reason])),
    );
  if (!r.dry_run && r.ticket_ids) parts.push(h('p', { class: 'muted', 'data-testid': 'imp-ids' }, t('imp_ids'), ` ${r.ticket_ids[0]}–${r.ticket_ids[1]}`));
  return h('div', { class: 'stack', 'data-testid': 'imp-report' }, ...parts);
}

function problemView(e: ApiError): HTMLElement {
  const errs = Array.isArray(e.body.errors) ? (e.body.errors as { line: number; message: string }[]) : [];
  return h(
    'div',
    { class: 'stack', role: 'alert', 'data-testid': 'imp-problem' },
    h('p', { class: 'error' }, e.text(lang())),
    errs.length ? grid('imp-errors', [t('imp_line'), t('imp_problem')], errs.map((x) => [x.line, x.message])) : null,
  );
}

export async function importSection(): Promise<HTMLElement> {
  const examples = await request<Examples>('GET', '/api/v1/admin/imports/examples');
  const csv = input('csv', { type: 'file', accept: '.csv,text/csv', 'data-testid': 'imp-csv' });
  const toml = input('mapping', { type: 'file', accept: '.toml,text/plain', 'data-testid': 'imp-mapping' });
  const mappingField = field(t('imp_mapping_file'), toml, { name: 'mapping' });
  const choice = select(
    'example',
    [{ value: OWN, label: t('imp_own_mapping') }, ...examples.map((x) => ({ value: x.name, label: `${t('imp_example')}: ${x.name}` }))],
    { value: OWN, onChange: (v) => (mappingField.hidden = v !== OWN) },
  );
  choice.setAttribute('data-testid', 'imp-choice');
  const out = h('div', { 'aria-live': 'polite' });
  const run = button(t('imp_import'), { class: 'btn primary', disabled: true, 'data-testid': 'imp-run' });
  const dry = button(t('imp_dry'), { class: 'btn', 'data-testid': 'imp-dry' });
  // what the last successful dry run checked: the import sends exactly that
  let checked: Body | null = null;

  async function body(): Promise<Body | null> {
    const f = csv.files?.[0];
    if (!f) {
      toast(t('imp_pick_csv'), 'error');
      return null;
    }
    const b: Body = { csv_base64: await base64Of(f), file_name: f.name, dry_run: true };
    if (choice.value === OWN) {
      const m = toml.files?.[0];
      if (!m) {
        toast(t('imp_pick_mapping'), 'error');
        return null;
      }
      b.mapping = await m.text();
    } else b.example = choice.value;
    return b;
  }

  async function send(b: Body, btn: HTMLButtonElement): Promise<Report | null> {
    btn.disabled = true;
    mount(out, h('p', { class: 'muted' }, t('imp_working')));
    try {
      const r = await request<Report>('POST', '/api/v1/admin/imports', b);
      mount(out, reportView(r));
      return r;
    } catch (e) {
      mount(out, e instanceof ApiError ? problemView(e) : h('p', { class: 'error', role: 'alert' }, String(e)));
      return null;
    } finally {
      btn.disabled = false;
    }
  }

  const invalidate = (): void => {
    checked = null;
    run.disabled = true;
  };
  csv.addEventListener('change', invalidate);
  toml.addEventListener('change', invalidate);
  choice.addEventListener('change', invalidate);
  dry.addEventListener('click', async () => {
    const b = await body();
    if (!b) return;
    invalidate();
    const r = await send(b, dry);
    if (r) {
      checked = b;
      run.disabled = false;
    }
  });
  run.addEventListener('click', async () => {
    if (!checked) return;
    const r = await send({ ...checked, dry_run: false }, run);
    if (r) {
      toast(t('imp_done'));
      invalidate();
    }
  });
  return h(
    'section',
    { class: 'card', 'data-testid': 'adm-import', 'aria-labelledby': 'adm-h-import' },
    h('h2', { id: 'adm-h-import' }, t('imp_title')),
    h('p', { class: 'muted' }, t('imp_lead')),
    h(
      'div',
      { class: 'form-grid' },
      field(t('imp_csv'), csv, { name: 'csv_base64', required: true }),
      field(t('imp_mapping'), choice, { name: 'example' }),
      mappingField,
      h('div', { class: 'actions' }, dry, run),
    ),
    out,
  );
}
