// The intake form's assistant panel: while the agent types the request text, the best
// knowledge-base answers (GET /api/v1/kb/search) and the classifier's suggestions
// (POST /api/v1/classify: top-3 categories and the likely type, with the words that drove them,
// and up to three responsible units — duty-catalogue rules first, then the unit model).
// Both are debounced (400 ms, at least 4 characters); a slow answer to an older text is dropped.

import { api, ApiError, type ClassifyResult, type DuplicateCandidate, type KbHit, type PlaceSuggestion, type UnitSuggestion } from './api';
import { button, h, mount } from './dom';
import { lang, t } from './i18n';
import { enumLabel, loadUnits, unitName } from './store';
import { fmtTime } from './format';

const DEBOUNCE_MS = 400;
const MIN_CHARS = 4;
/** While the model loads at start-up, /classify answers 503 `model_not_ready`: try again after this. */
const CLASSIFY_RETRY_MS = 5000;

/** A server snippet is escaped HTML except for <mark>; anything else is dropped to be safe. */
function safeMarked(html: string): DocumentFragment {
  const frag = document.createDocumentFragment();
  const parts = html.split(/(<mark>|<\/mark>)/);
  let inMark = false;
  const decode = (s: string) => {
    const ta = document.createElement('textarea');
    ta.innerHTML = s.replace(/</g, '&lt;');
    return ta.value;
  };
  for (const p of parts) {
    if (p === '<mark>') inMark = true;
    else if (p === '</mark>') inMark = false;
    else if (p) frag.append(inMark ? h('mark', null, decode(p)) : decode(p));
  }
  return frag;
}

/** The plain text of a snippet: marks removed, entities decoded, the window's ellipses trimmed. */
export function snippetText(html: string): string {
  const div = document.createElement('div');
  div.append(safeMarked(html));
  return (div.textContent ?? '').replace(/^…+|…+$/g, '').trim();
}

export const pct = (x: number) => `${Math.round(Math.max(0, Math.min(1, x)) * 100)}%`;

export interface AssistOpts {
  text: HTMLTextAreaElement;
  title: HTMLInputElement;
  /** "用此答复": the hit and the text to put in the answer field. */
  onUseArticle: (hit: KbHit, answer: string) => void;
  onCategory: (code: string) => void;
  onType: (type: string) => void;
  /** What the form knows so far (category, place): the unit suggestions use it. */
  context?: () => { category_code?: string; district_code?: string; street_code?: string; community_code?: string; enterprise?: boolean };
  /** "派给该单位": the agent takes a suggested unit. */
  onUnit?: (code: string, name: string) => void;
  /** When given, the suggested units go here (the dispatch picker's one list) instead of the panel. */
  onUnits?: (units: { code: string; name: string; source: 'rule' | 'model'; why: string }[]) => void;
  /** "采用地点": the agent confirms a place read from the text. */
  onPlace?: (p: PlaceSuggestion) => void;
  /** The requester's phone typed so far (duplicate candidates use it). */
  phone?: () => string;
}

/** Whether POST /duplicates/candidates exists (false after a 404: nothing is shown). */
let dupRoute = true;

export function intakeAssist(opts: AssistOpts) {
  const kbBox = h('div', { class: 'assist-kb', 'data-testid': 'kb-hits', 'aria-live': 'polite' });
  const clsBox = h('div', { class: 'assist-cls', 'data-testid': 'classify', 'aria-live': 'polite' });
  const placeBox = h('div', { class: 'assist-place', 'data-testid': 'place-suggestions', 'aria-live': 'polite' });
  const dupBox = h('div', { class: 'assist-dups', 'data-testid': 'dup-candidates', 'aria-live': 'polite' });
  const el = h(
    'section',
    { class: 'card assist compact', 'aria-labelledby': 'assist-title', 'data-testid': 'assist' },
    h('h2', { id: 'assist-title' }, t('assist_title')),
    dupBox,
    placeBox,
    h('h3', null, t('cls_title')),
    clsBox,
    h('h3', null, t('kb_answers')),
    kbBox,
  );
  mount(kbBox, h('p', { class: 'muted small' }, t('assist_type_more')));
  mount(clsBox, h('p', { class: 'muted small' }, t('assist_type_more')));

  let timer: number | undefined;
  let retry: number | undefined;
  let seq = 0;
  let chosen = '';
  /** The classifier's last answer for the current text (reported after creation: corrections). */
  let lastCls: ClassifyResult | null = null;

  const renderHits = (hits: KbHit[]) => {
    if (!hits.length) return mount(kbBox, h('p', { class: 'muted small' }, t('kb_none')));
    mount(
      kbBox,
      h(
        'ol',
        { class: 'plain kb-hits' },
        hits.map((hit) =>
          h(
            'li',
            { class: `kb-hit ${hit.id === chosen ? 'chosen' : ''}`, 'data-article': hit.id },
            h('div', { class: 'kb-q' }, safeMarked(hit.question_html)),
            h('div', { class: 'kb-snippet' }, safeMarked(hit.snippet_html)),
            h(
              'div',
              { class: 'kb-meta' },
              h('span', { class: 'tag' }, hit.id),
              ' ',
              h('span', { class: 'muted small' }, `${t('confidence')} ${pct(hit.confidence)}`),
              hit.place_match ? h('span', { class: 'tag ok' }, t('kb_place_match')) : null,
              button(hit.id === chosen ? t('kb_used') : t('kb_use'), {
                class: 'btn small',
                'data-testid': 'kb-use',
                onclick: () => {
                  chosen = hit.id;
                  // the full answer script (口径), falling back to the snippet if it cannot be fetched
                  api
                    .kbArticle(hit.id)
                    .then((a) => opts.onUseArticle(hit, a.answer))
                    .catch(() => opts.onUseArticle(hit, snippetText(hit.snippet_html)));
                  renderHits(hits);
                },
              }),
            ),
          ),
        ),
      ),
    );
  };

  const driverText = (d: [string, number][]) =>
    d
      .filter(([, w]) => w > 1e-6)
      .slice(0, 4)
      .map(([w]) => w)
      .join('、');

  const unitSource = (u: UnitSuggestion) =>
    u.source === 'rule'
      ? t('cls_src_rule', { rule: u.rule_id ?? '' })
      : `${t('cls_src_model', { p: pct(u.confidence ?? 0) })}${driverText(u.drivers ?? []) ? ` · ${driverText(u.drivers ?? [])}` : ''}`;

  const renderPlaces = (ps: PlaceSuggestion[]) => {
    if (!ps.length || !opts.onPlace) return mount(placeBox);
    const names = (p: PlaceSuggestion) => [unitName(p.street_code), p.community_code ? unitName(p.community_code) : ''].filter(Boolean).join(' › ');
    const list = h('ol', { class: 'plain place-list' });
    const draw = () =>
      mount(
        list,
        ps.map((p) =>
          h(
            'li',
            { class: 'place-sg', 'data-street': p.street_code, 'data-community': p.community_code ?? '' },
            h('span', null, h('mark', null, p.matched), ' → ', h('strong', null, names(p))),
            ' ',
            h('span', { class: 'muted small' }, pct(p.confidence)),
            button(t('stf_place_use'), { class: 'btn small', 'data-testid': 'place-accept', onclick: () => opts.onPlace?.(p) }),
          ),
        ),
      );
    draw();
    // the names of the streets and communities (cached after the first look-up)
    void Promise.all(ps.flatMap((p) => [loadUnits({ parent: p.district_code }), loadUnits({ parent: p.street_code })]))
      .then(() => el.isConnected && draw())
      .catch(() => undefined);
    mount(placeBox, h('h3', null, t('stf_place_title')), list);
  };

  const renderCls = (r: ClassifyResult) => {
    const type = r.type[0];
    const all = r.unit ?? [];
    opts.onUnits?.(all.map((u) => ({ code: u.unit_code, name: u.unit_name ?? u.unit_code, source: u.source, why: unitSource(u) })));
    const units = opts.onUnits ? [] : all;
    renderPlaces(r.place ?? []);
    mount(
      clsBox,
      // below the calibrated floor nothing is suggested: say so, rather than show a guess
      r.category.length === 0
        ? h('p', { class: 'muted small cls-none', 'data-testid': 'cls-none' }, t('cls_none', { floor: pct(r.floors?.category ?? 0.05) }))
        : null,
      h(
        'ol',
        { class: 'plain cls-list' },
        r.category.slice(0, 3).map((c) =>
          h(
            'li',
            { class: 'cls-item', 'data-code': c.code },
            h('div', null, h('strong', null, c.path), ' ', h('span', { class: 'muted small' }, pct(c.confidence))),
            h('div', { class: 'muted small' }, driverText(c.drivers) ? `${t('cls_drivers')}：${driverText(c.drivers)}` : ''),
            button(t('cls_accept'), { class: 'btn small', 'data-testid': 'cls-accept', onclick: () => opts.onCategory(c.code) }),
          ),
        ),
      ),
      type
        ? h(
            'div',
            { class: 'cls-type', 'data-type': type.label },
            t('cls_type'),
            '：',
            h('strong', null, lang() === 'zh' ? type.label_zh || enumLabel('types', type.label) : enumLabel('types', type.label)),
            ' ',
            h('span', { class: 'muted small' }, pct(type.confidence)),
            driverText(type.drivers) ? h('div', { class: 'muted small' }, `${t('cls_drivers')}：${driverText(type.drivers)}`) : null,
            button(t('cls_accept'), { class: 'btn small', 'data-testid': 'cls-type-accept', onclick: () => opts.onType(type.label) }),
          )
        : null,
      units.length
        ? h(
            'div',
            { class: 'cls-units', 'data-testid': 'unit-suggestions' },
            h('h4', null, t('cls_units')),
            h(
              'ol',
              { class: 'plain' },
              units.map((u) =>
                h(
                  'li',
                  { class: 'cls-unit', 'data-unit': u.unit_code, 'data-source': u.source },
                  h('strong', null, u.unit_name ?? u.unit_code),
                  ' ',
                  h('span', { class: `tag src-${u.source}` }, u.source === 'rule' ? t('stf_src_rule') : t('stf_src_model')),
                  h('div', { class: 'muted small' }, unitSource(u)),
                  opts.onUnit
                    ? button(t('cls_unit_accept'), {
                        class: 'btn small',
                        'data-testid': 'unit-accept',
                        onclick: () => opts.onUnit?.(u.unit_code, u.unit_name ?? u.unit_code),
                      })
                    : null,
                ),
              ),
            ),
          )
        : null,
    );
  };

  async function classify(my: number, text: string, title: string) {
    try {
      const ctx = opts.context?.() ?? {};
      const r = await api.classify({
        text,
        title: title || undefined,
        category_code: ctx.category_code || undefined,
        district_code: ctx.district_code || undefined,
        street_code: ctx.street_code || undefined,
        community_code: ctx.community_code || undefined,
        enterprise: ctx.enterprise || undefined,
      });
      if (my === seq) {
        lastCls = r;
        renderCls(r);
      }
    } catch (e) {
      if (my !== seq) return;
      // the model is still loading: show nothing and try again a little later
      if (e instanceof ApiError && e.status === 503) {
        mount(clsBox);
        window.clearTimeout(retry);
        retry = window.setTimeout(() => {
          if (my === seq && el.isConnected) void classify(my, text, title);
        }, CLASSIFY_RETRY_MS);
      } else mount(clsBox);
    }
  }

  const renderDups = (cs: DuplicateCandidate[]) => {
    if (!cs.length) return mount(dupBox);
    mount(
      dupBox,
      h('h3', { class: 'warn-title' }, t('stf_dup_title', { n: cs.length })),
      h(
        'ol',
        { class: 'plain dup-list' },
        cs.slice(0, 5).map((c) =>
          h(
            'li',
            { class: 'dup-cand', 'data-number': c.number },
            h('a', { href: `#/tickets/${c.id}`, target: '_blank', rel: 'noopener' }, t('dup_same_as', { number: c.number })),
            ' ',
            h('span', { class: 'muted small' }, `${c.title} · ${fmtTime(c.created_at)} · ${pct(c.score)}`),
            c.reasons?.length ? h('div', { class: 'muted small' }, c.reasons.map((x) => (lang() === 'zh' ? x.zh : x.en)).join(lang() === 'zh' ? '；' : '; ')) : null,
          ),
        ),
      ),
    );
  };

  async function duplicates(my: number, text: string, title: string) {
    if (!dupRoute) return;
    const ctx = opts.context?.() ?? {};
    try {
      const r = await api.duplicateCandidates({
        title,
        text,
        category_code: ctx.category_code || undefined,
        district_code: ctx.district_code || undefined,
        street_code: ctx.street_code || undefined,
        community_code: ctx.community_code || undefined,
        phone: opts.phone?.() || undefined,
      });
      if (my === seq) renderDups(r.candidates ?? []);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) dupRoute = false;
      if (my === seq) mount(dupBox);
    }
  }

  async function run() {
    const text = opts.text.value.trim();
    const my = ++seq;
    lastCls = null;
    window.clearTimeout(retry);
    if ([...text].length < MIN_CHARS) {
      mount(dupBox);
      mount(placeBox);
      mount(kbBox, h('p', { class: 'muted small' }, t('assist_type_more')));
      mount(clsBox, h('p', { class: 'muted small' }, t('assist_type_more')));
      return;
    }
    const title = opts.title.value.trim();
    void classify(my, text, title);
    void duplicates(my, text, title);
    try {
      const { hits } = await api.kbSearch(`${title} ${text}`.trim().slice(0, 2000), 5);
      if (my === seq) renderHits(hits);
    } catch (e) {
      if (my === seq) mount(kbBox, h('p', { class: 'muted small' }, e instanceof ApiError ? e.text(lang()) : String(e)));
    }
  }

  const schedule = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => void run(), DEBOUNCE_MS);
  };
  opts.text.addEventListener('input', schedule);
  opts.title.addEventListener('input', schedule);

  return {
    el,
    /** Ask again (e.g. after the place or the category changed: the unit suggestions follow). */
    refresh: schedule,
    /** The article chosen with "用此答复", or '' (cleared when the agent picks no article). */
    articleId: () => chosen,
    clear: () => {
      chosen = '';
    },
    /**
     * After the ticket is created: tell the server what the classifier suggested on top, so that a
     * choice that differs is kept as a corrected example for training. Best effort (never blocks
     * or fails the intake).
     */
    reportOutcome: (ticketId: number) => {
      const r = lastCls;
      if (!r || (!r.category.length && !r.type.length)) return;
      void api
        .classifyFeedback({
          ticket_id: ticketId,
          suggested_category: r.category[0]?.code,
          suggested_type: r.type[0]?.label,
          model_version: r.model_version,
        })
        .catch(() => undefined);
    },
  };
}
