// Reusable widgets: a searchable combobox, the category picker, the district → street → community
// cascade, the dispatch unit picker, status badges and the timeline.

import { api, ApiError, type Unit } from './api';
import { button, field, h, input, mount, select, textarea, uid, type Child } from './dom';
import { fmtTime } from './format';
import { lang, t, tMaybe } from './i18n';
import { enumLabel, loadCategories, loadDispatchUnits, loadUnits, type CategoryLeaf } from './store';

// ---- combobox ---------------------------------------------------------------------------------

export interface ComboOptions<T> {
  name: string;
  placeholder: string;
  /** Candidate items for a query (already filtered and ranked). */
  search: (q: string) => T[] | Promise<T[]>;
  render: (item: T) => Child;
  text: (item: T) => string;
  key: (item: T) => string;
  onSelect: (item: T | null) => void;
  emptyText: string;
  /** Keep the chosen text in the input (true) or clear it after choosing (false). */
  keepText?: boolean;
}

/** An accessible combobox (ARIA 1.2 pattern): type to filter, arrows to move, Enter to choose. */
export function combobox<T>(o: ComboOptions<T>) {
  const listId = uid('list');
  const inp = input(o.name, {
    role: 'combobox',
    'aria-autocomplete': 'list',
    'aria-expanded': 'false',
    'aria-controls': listId,
    autocomplete: 'off',
    placeholder: o.placeholder,
  });
  const list = h('ul', { id: listId, role: 'listbox', class: 'combo-list', hidden: true });
  const wrap = h('div', { class: 'combo' }, inp, list);
  let items: T[] = [];
  let active = -1;
  let seq = 0;

  const close = () => {
    list.hidden = true;
    inp.setAttribute('aria-expanded', 'false');
    inp.removeAttribute('aria-activedescendant');
    active = -1;
  };
  const setActive = (i: number) => {
    const lis = list.querySelectorAll('li[role=option]');
    lis.forEach((li, j) => li.setAttribute('aria-selected', j === i ? 'true' : 'false'));
    active = i;
    const el = lis[i] as HTMLElement | undefined;
    if (el) {
      inp.setAttribute('aria-activedescendant', el.id);
      el.scrollIntoView({ block: 'nearest' });
    }
  };
  const choose = (item: T) => {
    inp.value = o.keepText === false ? '' : o.text(item);
    close();
    o.onSelect(item);
  };
  const refresh = async () => {
    const my = ++seq;
    const res = await o.search(inp.value.trim());
    if (my !== seq) return;
    items = res;
    list.replaceChildren();
    if (items.length === 0) {
      list.appendChild(h('li', { class: 'combo-empty', 'aria-disabled': 'true' }, o.emptyText));
    }
    items.forEach((it, i) => {
      const li = h(
        'li',
        { role: 'option', id: `${listId}-${i}`, 'aria-selected': 'false', 'data-key': o.key(it) },
        o.render(it),
      );
      li.addEventListener('mousedown', (ev) => {
        ev.preventDefault();
        choose(it);
      });
      list.appendChild(li);
    });
    list.hidden = false;
    inp.setAttribute('aria-expanded', 'true');
    if (items.length) setActive(0);
  };

  inp.addEventListener('input', () => {
    o.onSelect(null);
    void refresh();
  });
  // a focus moved by the form's validation (forms.ts) must not open the list over the messages
  inp.addEventListener('focus', () => {
    if (!inp.dataset.quietFocus) void refresh();
  });
  inp.addEventListener('blur', () => setTimeout(close, 120));
  inp.addEventListener('keydown', (ev: KeyboardEvent) => {
    if (ev.key === 'ArrowDown') {
      ev.preventDefault();
      if (list.hidden) void refresh();
      else setActive(Math.min(items.length - 1, active + 1));
    } else if (ev.key === 'ArrowUp') {
      ev.preventDefault();
      setActive(Math.max(0, active - 1));
    } else if (ev.key === 'Enter') {
      if (!list.hidden && active >= 0 && items[active]) {
        ev.preventDefault();
        choose(items[active]);
      }
    } else if (ev.key === 'Escape') {
      close();
    }
  });
  return { el: wrap, input: inp, close };
}

function highlight(text: string, q: string): Child {
  if (!q) return text;
  const i = text.toLowerCase().indexOf(q.toLowerCase());
  if (i < 0) return text;
  return [text.slice(0, i), h('mark', null, text.slice(i, i + q.length)), text.slice(i + q.length)];
}

// ---- category picker --------------------------------------------------------------------------

/** Searchable category picker over the leaves of the three-level tree. */
/** Whether `GET /categories/search` exists (null: not asked yet; false: it answered 404). */
let serverSearch: boolean | null = null;

export function categoryPicker(opts: { value?: string; onChange?: (leaf: CategoryLeaf | null) => void } = {}) {
  let chosen: CategoryLeaf | null = null;
  let lastQ = '';
  const pathLine = h('div', { class: 'combo-chosen', 'aria-live': 'polite' });
  const showChosen = () => mount(pathLine, chosen ? chosen.path.join(' › ') : '');
  const combo = combobox<CategoryLeaf>({
    name: 'category_code',
    placeholder: t('category_search'),
    emptyText: t('category_none'),
    search: async (q) => {
      lastQ = q;
      const { leaves, byCode } = await loadCategories();
      // the server's search knows the citizen's words (噪音 → 噪声) and, for an empty query, the
      // most used categories of the last 30 days; until it exists (404) we filter here
      if (serverSearch !== false) {
        try {
          const r = await api.categorySearch(q, 20);
          serverSearch = true;
          const out = r.results.map((x) => byCode.get(x.code)).filter((l): l is CategoryLeaf => !!l);
          if (out.length || q) return out;
        } catch (e) {
          if (e instanceof ApiError && e.status === 404) serverSearch = false;
        }
      }
      if (!q) return leaves.slice(0, 400);
      const toks = q.toLowerCase().split(/\s+/).filter(Boolean);
      const hits = leaves.filter((l) => toks.every((tk) => l.haystack.includes(tk)));
      const first = toks[0];
      hits.sort((a, b) => Number(!a.name.toLowerCase().includes(first)) - Number(!b.name.toLowerCase().includes(first)));
      return hits.slice(0, 200);
    },
    render: (l) => [
      h('span', { class: 'opt-main' }, highlight(l.name, lastQ)),
      h('span', { class: 'opt-sub' }, highlight(l.path.slice(0, -1).join(' › '), lastQ)),
    ],
    text: (l) => l.name,
    key: (l) => l.code,
    onSelect: (l) => {
      chosen = l;
      showChosen();
      opts.onChange?.(l);
    },
  });
  if (opts.value) {
    void loadCategories().then(({ byCode }) => {
      const l = byCode.get(opts.value!);
      if (l) {
        chosen = l;
        combo.input.value = l.name;
        showChosen();
      }
    });
  }
  const el = h('div', { class: 'category-picker' }, combo.el, pathLine);
  return {
    el,
    input: combo.input,
    value: () => chosen?.code ?? '',
    leaf: () => chosen,
    /** Chooses the leaf `code` (e.g. a classifier suggestion); false when it is not a leaf. */
    set: async (code: string): Promise<boolean> => {
      const l = (await loadCategories()).byCode.get(code);
      if (!l) return false;
      chosen = l;
      combo.input.value = l.name;
      showChosen();
      opts.onChange?.(l);
      return true;
    },
  };
}

// ---- place cascade ----------------------------------------------------------------------------

export interface PlaceValue {
  district_code: string;
  street_code: string;
  community_code: string;
  street_name: string;
}

/** District → street/town → community/village selects, loaded from GET /api/v1/units. */
export function placeCascade(opts: { onStreet?: (code: string, name: string) => void; onDistrict?: (code: string) => void } = {}) {
  const district = select('district_code', [], { placeholder: t('choose'), required: true });
  if (opts.onDistrict) {
    const cb = opts.onDistrict;
    district.addEventListener('change', () => cb(district.value));
  }
  const street = select('street_code', [], { placeholder: t('choose_district_first'), required: true });
  const community = select('community_code', [], { placeholder: t('choose_street_first') });
  street.disabled = true;
  community.disabled = true;

  const fill = (s: HTMLSelectElement, units: Unit[], placeholder: string) => {
    s.replaceChildren(h('option', { value: '' }, placeholder), ...units.map((u) => h('option', { value: u.code }, u.name)));
  };

  void loadUnits({ kind: 'district' }).then((ds) => fill(district, ds, t('choose')));

  const loadStreets = async () => {
    fill(street, [], t('loading'));
    fill(community, [], t('choose_street_first'));
    street.disabled = true;
    community.disabled = true;
    opts.onStreet?.('', '');
    if (!district.value) {
      fill(street, [], t('choose_district_first'));
      return;
    }
    const code = district.value;
    const us = (await loadUnits({ parent: code })).filter((u) => u.kind === 'street_town');
    if (district.value !== code) return;
    fill(street, us, t('choose'));
    street.disabled = false;
  };
  district.addEventListener('change', () => void loadStreets());
  const loadCommunities = async () => {
    fill(community, [], t('loading'));
    community.disabled = true;
    const code = street.value;
    opts.onStreet?.(code, street.selectedOptions[0]?.textContent ?? '');
    if (!code) {
      fill(community, [], t('choose_street_first'));
      return;
    }
    const us = (await loadUnits({ parent: code })).filter((u) => u.kind === 'community');
    if (street.value !== code) return;
    fill(community, us, `${t('choose')}（${t('optional')}）`);
    community.disabled = false;
  };
  street.addEventListener('change', () => void loadCommunities());

  const el = h(
    'div',
    { class: 'grid3' },
    field(t('district'), district, { name: 'district_code', required: true }),
    field(t('street'), street, { name: 'street_code', required: true }),
    field(t('community'), community, { name: 'community_code' }),
  );
  return {
    el,
    district,
    street,
    community,
    value: (): PlaceValue => ({
      district_code: district.value,
      street_code: street.value,
      community_code: community.value,
      street_name: street.selectedOptions[0]?.textContent ?? '',
    }),
    /** Sets the place (e.g. a confirmed place suggestion): district, street, community if given. */
    set: async (d: string, s: string, c?: string | null): Promise<void> => {
      if (district.value !== d) {
        district.value = d;
        opts.onDistrict?.(d);
        await loadStreets();
      }
      if (street.value !== s) {
        street.value = s;
        await loadCommunities();
      }
      community.value = c ?? '';
      street.dispatchEvent(new Event('placeset'));
    },
  };
}

// ---- unit picker (dispatch) -------------------------------------------------------------------

export interface PickedUnit {
  unit_code: string;
  name: string;
  role: 'lead' | 'assist';
}

/** Where a suggested unit comes from: the duty catalogue's rule (派单目录), the request's street
 * (属地直派) or the unit model (模型); the list shows them in this order. */
export type SuggestionSource = 'rule' | 'street' | 'model';
const SOURCE_RANK: Record<SuggestionSource, number> = { rule: 0, street: 1, model: 2 };

/** One suggested unit: its source and why, in words ("派单目录规则 R-12", "模型 63%"). */
export interface UnitSuggestionItem {
  code: string;
  name: string;
  source: SuggestionSource;
  why: string;
}

/**
 * Picks the units for a dispatch: one ordered list of suggested units (catalogue rule first, then
 * the request's street — 属地直派 —, then the model; each unit once, with every source in words;
 * one click adds it), a search over dispatchable units, and for each chosen unit lead (主办) or
 * assist (协办).
 */
export function unitPicker(opts: { withRoles?: boolean; name?: string; district?: string } = {}) {
  const withRoles = opts.withRoles ?? true;
  let picked: PickedUnit[] = [];
  // suggestions by group (the street, the classifier's units, the routing proposal), each group
  // replaced whole when its source answers again
  const groups = new Map<string, UnitSuggestionItem[]>();
  // Units of the request's district (its streets and departments) are listed first.
  let district = opts.district ?? '';
  const near = (u: Unit) => (district && (u.parent === district || u.code === district) ? 0 : 1);
  const rows = h('ul', { class: 'picked-units', 'aria-live': 'polite' });
  const suggestBox = h('div', { class: 'suggest' });
  const suggestHeadId = `sgl-${Math.random().toString(36).slice(2, 9)}`;
  let lastQ = '';
  const kindRank = (k: string) => {
    const i = ['street_town', 'district_department', 'city_department', 'state_enterprise', 'ecommerce', 'other', 'district'].indexOf(k);
    return i < 0 ? 99 : i;
  };

  const add = (code: string, name: string) => {
    if (picked.some((p) => p.unit_code === code)) return;
    picked.push({ unit_code: code, name, role: withRoles && !picked.some((p) => p.role === 'lead') ? 'lead' : 'assist' });
    render();
  };

  const combo = combobox<Unit>({
    name: opts.name ?? 'unit_search',
    placeholder: t('unit_search'),
    emptyText: t('unit_none'),
    keepText: false,
    search: async (q) => {
      lastQ = q;
      const all = await loadDispatchUnits();
      const ql = q.toLowerCase();
      const hits = q ? all.filter((u) => u.name.toLowerCase().includes(ql) || u.code.startsWith(q)) : all;
      return hits
        .filter((u) => !picked.some((p) => p.unit_code === u.code))
        .sort((a, b) => near(a) - near(b) || kindRank(a.kind) - kindRank(b.kind))
        .slice(0, 80);
    },
    render: (u) => [h('span', { class: 'opt-main' }, highlight(u.name, lastQ)), h('span', { class: 'opt-sub' }, tMaybe(`kind_${u.kind}`) ?? u.kind)],
    text: (u) => u.name,
    key: (u) => u.code,
    onSelect: (u) => {
      if (u) add(u.code, u.name);
    },
  });

  function render() {
    rows.replaceChildren(
      ...picked.map((p, i) => {
        const roleSel = select(
          `role-${i}`,
          [
            { value: 'lead', label: t('role_lead') },
            { value: 'assist', label: t('role_assist') },
          ],
          {
            value: p.role,
            onChange: (v) => {
              if (v === 'lead') for (const q of picked) q.role = 'assist';
              p.role = v as 'lead' | 'assist';
              render();
            },
          },
        );
        roleSel.setAttribute('aria-label', `${p.name} ${t('role')}`);
        return h(
          'li',
          { 'data-unit': p.unit_code },
          h('span', { class: 'unit-name' }, p.name),
          withRoles ? roleSel : null,
          button('×', {
            class: 'btn ghost small',
            'aria-label': `${t('remove')} ${p.name}`,
            onclick: () => {
              picked = picked.filter((q) => q !== p);
              if (withRoles && picked.length && !picked.some((q) => q.role === 'lead')) picked[0].role = 'lead';
              render();
            },
          }),
        );
      }),
    );
    renderSuggestion();
  }

  /** The suggestions as one list: by source (rule, street, model), each unit once with all of
   * its sources, the units already picked left out. */
  function merged(): { code: string; name: string; sources: UnitSuggestionItem[] }[] {
    const all = [...groups.values()].flat().map((x, i) => ({ x, i }));
    all.sort((a, b) => SOURCE_RANK[a.x.source] - SOURCE_RANK[b.x.source] || a.i - b.i);
    const out: { code: string; name: string; sources: UnitSuggestionItem[] }[] = [];
    for (const { x } of all) {
      const seen = out.find((o) => o.code === x.code);
      if (seen) {
        if (!seen.sources.some((s) => s.source === x.source && s.why === x.why)) seen.sources.push(x);
      } else out.push({ code: x.code, name: x.name, sources: [x] });
    }
    return out.filter((o) => !picked.some((p) => p.unit_code === o.code));
  }

  function renderSuggestion() {
    const list = merged();
    if (!list.length) return suggestBox.replaceChildren();
    suggestBox.replaceChildren(
      h('div', { class: 'suggest-head muted small', id: suggestHeadId }, t('sgl_title')),
      h(
        'ol',
        { class: 'plain suggest-list', 'aria-labelledby': suggestHeadId, 'data-testid': 'unit-suggestions' },
        list.map((o) =>
          h(
            'li',
            { class: 'cls-unit', 'data-unit': o.code, 'data-source': o.sources[0].source, 'data-sources': o.sources.map((s) => s.source).join(' ') },
            button(['+ ', o.name], {
              class: 'btn chip',
              'data-suggest': o.code,
              'data-testid': 'unit-accept',
              'aria-label': t('sgl_add', { name: o.name }),
              onclick: () => add(o.code, o.name),
            }),
            h('span', { class: 'small suggest-why' }, o.sources.map((s) => h('span', { class: `src-${s.source}` }, s.why))),
          ),
        ),
      ),
    );
  }

  const el = h('div', { class: 'unit-picker', 'data-field': 'assignments' }, suggestBox, combo.el, rows);
  return {
    el,
    input: combo.input,
    setDistrict(code: string) {
      district = code;
    },
    /** The request's street (属地直派); an empty code takes it away (e.g. it returned the ticket). */
    setSuggestion(code: string, name: string) {
      groups.set('street', code ? [{ code, name, source: 'street', why: t('sgl_why_street') }] : []);
      renderSuggestion();
    },
    /** Replaces one group of suggestions (e.g. `classify`: the classifier's rule and model units). */
    setSuggestions(group: string, items: UnitSuggestionItem[]) {
      groups.set(group, items);
      renderSuggestion();
    },
    add,
    /** Replaces the picked units (e.g. with a suggestion), lead first. */
    set(units: { unit_code: string; name: string; role: 'lead' | 'assist' }[]) {
      picked = [...units].sort((a, b) => Number(a.role !== 'lead') - Number(b.role !== 'lead')).map((u) => ({ ...u }));
      render();
    },
    value: () => picked.map((p) => ({ ...p })),
    clear() {
      picked = [];
      render();
    },
  };
}

// ---- radios and counted text -------------------------------------------------------------------

export function radioGroup(name: string, legend: string, options: { value: string; label: string }[], value: string, onChange?: (v: string) => void): HTMLElement {
  return h(
    'fieldset',
    { class: 'field radios', 'data-field': name },
    h('legend', null, legend),
    h(
      'div',
      { class: 'chips' },
      options.map((o) => {
        const r = h('input', { type: 'radio', name, value: o.value, checked: o.value === value });
        if (onChange) r.addEventListener('change', () => r.checked && onChange(o.value));
        return h('label', { class: 'chip-radio' }, r, h('span', null, o.label));
      }),
    ),
    h('div', { class: 'field-error', role: 'alert' }),
  );
}

export function radioValue(root: Element, name: string): string {
  return (root.querySelector(`input[name="${name}"]:checked`) as HTMLInputElement | null)?.value ?? '';
}

/** A textarea with a live character counter. */
export function countedTextarea(name: string, max: number, attrs: Record<string, string | number | boolean> = {}) {
  const ta = textarea(name, { maxlength: max, ...attrs });
  const counter = h('span', { class: 'counter', 'aria-live': 'off' }, `0 / ${max}`);
  ta.addEventListener('input', () => {
    counter.textContent = `${ta.value.length} / ${max}`;
  });
  return { ta, counter };
}

// ---- badges and timeline ----------------------------------------------------------------------

const STATUS_TONE: Record<string, string> = {
  new: 'warn',
  dispatched: 'info',
  in_progress: 'info',
  return_review: 'warn',
  result_submitted: 'accent',
  callback_done: 'ok',
  answered: 'ok',
  special_handled: 'ok',
  closed: 'muted',
  merged: 'muted',
  archived: 'muted',
};

export function statusBadge(status: string, label?: string): HTMLElement {
  const text = label && lang() === 'zh' ? label : enumLabel('statuses', status) || label || status;
  return h('span', { class: `badge ${STATUS_TONE[status] ?? 'muted'}`, 'data-status': status }, text);
}

export interface TimelineItem {
  at: string;
  title: string;
  who?: string;
  body?: Child;
  tone?: string;
  kind?: string;
}

export function timeline(items: TimelineItem[]): HTMLElement {
  return h(
    'ol',
    { class: 'timeline' },
    items.map((it) =>
      h(
        'li',
        { class: `tl-item ${it.tone ?? ''}`, 'data-kind': it.kind ?? null },
        h('span', { class: 'tl-dot', 'aria-hidden': 'true' }),
        h(
          'div',
          { class: 'tl-body' },
          h('div', { class: 'tl-head' }, h('strong', null, it.title), h('time', { datetime: it.at }, fmtTime(it.at))),
          it.who ? h('div', { class: 'tl-who' }, it.who) : null,
          it.body ? h('div', { class: 'tl-text' }, it.body) : null,
        ),
      ),
    ),
  );
}

/** A page header with title, optional lead text and right-side extras. */
export function pageHeader(title: string, lead?: string, ...extra: Child[]): HTMLElement {
  return h(
    'header',
    { class: 'page-head' },
    h('div', null, h('h1', null, title), lead ? h('p', { class: 'lead' }, lead) : null),
    extra.length ? h('div', { class: 'page-head-extra' }, extra) : null,
  );
}

export function loadingBlock(): HTMLElement {
  return h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), t('loading'));
}

export function errorBlock(message: string, retry?: () => void): HTMLElement {
  return h(
    'div',
    { class: 'alert error', role: 'alert' },
    h('strong', null, t('error_generic')),
    ' ',
    message,
    retry ? [' ', button(t('retry'), { class: 'btn small', onclick: retry })] : null,
  );
}
