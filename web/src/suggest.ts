// The routing engine's suggestion in the dispatch form (GET /api/v1/tickets/{id}/route): lead and
// assists, tier, the rule and why it won, runner-ups and conflicts, and a one-click "dispatch as
// suggested" that sends the rule id. After an approved return the suggestion's `next` (the best
// dispatch whose lead did not return the ticket) is shown instead.

import { api, ApiError, type Alternative, type ConsideredRule, type SuggestedAssignment, type Suggestion, type TicketView } from './api';
import { button, h, mount, type Child } from './dom';
import { lang, t, tMaybe } from './i18n';
import { enumLabel, rememberUnit, unitName } from './store';

/** What a dispatch made from a suggestion sends. */
export interface Proposal {
  rule_id: string;
  assignments: SuggestedAssignment[];
  tier?: string | null;
}

export interface SuggestionOpts {
  /** Dispatch at once (the one-click button). */
  dispatch: (p: Proposal, btn: HTMLButtonElement) => Promise<void>;
  /** Put the proposal into the unit picker for editing. */
  edit: (p: Proposal) => void;
}

function kindLabel(kind: string | null | undefined): string {
  if (!kind) return '';
  return enumLabel('unit_kinds', kind);
}

function unitLine(a: SuggestedAssignment): HTMLElement {
  rememberUnit(a.unit_code, a.unit_name);
  return h(
    'li',
    { class: `sg-unit ${a.role}`, 'data-unit': a.unit_code, 'data-role': a.role },
    h('span', { class: `tag ${a.role === 'lead' ? 'lead' : ''}` }, enumLabel('roles_in_assignment', a.role)),
    h('strong', null, a.unit_name || unitName(a.unit_code)),
    h('span', { class: 'muted small' }, [kindLabel(a.unit_kind), a.unit_code].filter(Boolean).join(' · ')),
  );
}

/** The units of a proposal, lead first. */
function unitsList(as: SuggestedAssignment[]): HTMLElement {
  const sorted = [...as].sort((a, b) => Number(a.role !== 'lead') - Number(b.role !== 'lead'));
  return h('ul', { class: 'sg-units' }, sorted.map(unitLine));
}

/** The first sentence of the explanation: which rule matched and what it gives. */
function headline(s: Suggestion): string {
  const text = lang() === 'zh' ? s.explanation?.zh ?? '' : s.explanation?.en ?? '';
  if (lang() === 'zh') {
    const i = text.indexOf('。');
    return i >= 0 ? text.slice(0, i + 1) : text;
  }
  const m = /^(.*?\.)(\s|$)/.exec(text);
  return m ? m[1] : text;
}

/** The rest of the zh explanation after the first sentence (e.g. "地点明确、职责清晰，直派街乡"). */
function extraSentences(s: Suggestion): string {
  if (lang() !== 'zh') return '';
  const text = s.explanation?.zh ?? '';
  const i = text.indexOf('。');
  if (i < 0) return '';
  // the remaining sentences that are not a list of "rule：reason；" (those are in `considered`)
  return text
    .slice(i + 1)
    .split('。')
    .filter((x) => x && !/[：:].*胜出|；$/.test(x))
    .map((x) => `${x}。`)
    .join('');
}

const STATUS_TONE: Record<string, string> = { won: 'ok', tie: 'warn', lost: 'muted', skipped: 'muted' };

function consideredList(cs: ConsideredRule[]): HTMLElement {
  return h(
    'ul',
    { class: 'sg-considered' },
    cs.map((c) =>
      h(
        'li',
        { 'data-rule': c.rule_id, 'data-status': c.status },
        h('span', { class: `badge ${STATUS_TONE[c.status] ?? 'muted'}` }, tMaybe(`sg_status_${c.status}`) ?? c.status),
        h('code', null, c.rule_id),
        h('span', null, lang() === 'zh' ? c.reason_zh : c.reason_en),
      ),
    ),
  );
}

function alternativeRow(alt: Alternative, opts: SuggestionOpts): HTMLElement {
  return h(
    'li',
    { class: 'sg-alt', 'data-rule': alt.rule_id },
    h(
      'div',
      { class: 'sg-alt-main' },
      h('div', { class: 'sg-alt-head' }, h('code', null, alt.rule_id), h('span', { class: 'tag' }, enumLabel('tiers', alt.tier))),
      h(
        'div',
        { class: 'sg-alt-units' },
        [...alt.assignments]
          .sort((a, b) => Number(a.role !== 'lead') - Number(b.role !== 'lead'))
          .map((a) => h('span', { class: 'sg-alt-unit' }, h('span', { class: `tag ${a.role === 'lead' ? 'lead' : ''}` }, enumLabel('roles_in_assignment', a.role)), a.unit_name || unitName(a.unit_code))),
      ),
    ),
    button(t('sg_use'), { class: 'btn small', 'data-use-rule': alt.rule_id, onclick: () => opts.edit({ rule_id: alt.rule_id, assignments: alt.assignments, tier: alt.tier }) }),
  );
}

function collapsible(summary: string, body: Child, attrs: Record<string, string> = {}, open = false): HTMLElement {
  return h('details', { class: 'sg-more', open, ...attrs }, h('summary', null, summary), h('div', { class: 'sg-more-body' }, body));
}

/** Renders a loaded suggestion. */
export function renderSuggestion(s: Suggestion, opts: SuggestionOpts): HTMLElement {
  const returned = s.returned_units ?? [];
  const afterReturn = returned.length > 0;
  // what to propose: the winner, or after an approved return the next one
  const proposal: Proposal | null = afterReturn
    ? s.next && s.next.assignments?.length
      ? { rule_id: s.next.rule_id, assignments: s.next.assignments, tier: s.next.tier }
      : null
    : s.rule_id && s.assignments?.length
      ? { rule_id: s.rule_id, assignments: s.assignments, tier: s.tier }
      : null;
  const box = h('section', {
    class: `suggestion ${afterReturn ? 'after-return' : ''}`,
    'data-testid': 'suggestion',
    'data-rule': proposal?.rule_id ?? '',
    'data-mode': afterReturn ? 'next' : 'first',
    'aria-label': afterReturn ? t('sg_next_title') : t('sg_title'),
  });
  const head = h(
    'div',
    { class: 'sg-head' },
    h('span', { class: 'sg-icon', 'aria-hidden': 'true' }, '➜'),
    h('h4', null, afterReturn ? t('sg_next_title') : t('sg_title')),
    proposal
      ? h(
          'span',
          { class: 'sg-meta' },
          proposal.tier ? h('span', { class: 'tag' }, enumLabel('tiers', proposal.tier)) : null,
          h('code', { class: 'sg-rule', title: t('sg_rule', { id: proposal.rule_id }) }, proposal.rule_id),
        )
      : null,
  );
  if (!proposal) {
    mount(
      box,
      head,
      afterReturn ? h('p', { class: 'sg-excluded small' }, t('sg_excluded', { units: returned.map(unitName).join('、') })) : null,
      h('p', { class: 'sg-explain muted' }, afterReturn ? t('sg_none_next') : t('sg_none')),
    );
    box.classList.add('empty');
    return box;
  }

  const considered = s.explanation?.considered ?? [];
  let explain: Child;
  if (afterReturn) {
    const lead = proposal.assignments.find((a) => a.role === 'lead');
    explain = [
      h('p', { class: 'sg-excluded small' }, t('sg_excluded', { units: returned.map(unitName).join('、') })),
      h(
        'p',
        { class: 'sg-explain', 'data-testid': 'suggestion-explanation' },
        t(s.rule_id && s.rule_id !== proposal.rule_id ? 'sg_next_explain' : 'sg_next_explain_same', {
          rule: s.rule_id ?? '',
          next: proposal.rule_id,
          lead: lead ? lead.unit_name || unitName(lead.unit_code) : '—',
          tier: proposal.tier ? enumLabel('tiers', proposal.tier) : '—',
        }),
      ),
    ];
  } else {
    // in words first ("按派单目录：供暖 › 集中供热 → 热力集团"); the rule's own sentence and id follow as detail
    const words = s.words ? (lang() === 'zh' ? s.words.zh : s.words.en) : '';
    explain = [
      h(
        'p',
        { class: 'sg-explain', 'data-testid': 'suggestion-explanation' },
        words ? h('strong', { class: 'sg-words', 'data-testid': 'suggestion-words' }, words) : null,
        words ? h('br') : null,
        h('span', { class: words ? 'sg-detail muted small' : '' }, headline(s)),
        extraSentences(s) ? h('span', { class: 'sg-extra' }, ' ', extraSentences(s)) : null,
      ),
    ];
  }

  const others = (afterReturn
    ? [...(s.rule_id ? [{ rule_id: s.rule_id, assignments: s.assignments, tier: s.tier ?? '' } as Alternative] : []), ...(s.runner_ups ?? [])].filter(
        (a) => a.rule_id !== proposal.rule_id && !a.assignments.some((x) => x.role === 'lead' && returned.includes(x.unit_code)),
      )
    : s.runner_ups ?? []
  ).filter((a) => a.assignments?.length);
  const conflicts = afterReturn ? [] : s.conflicts ?? [];

  const dispatchBtn = button(t('sg_dispatch'), { class: 'btn primary', 'data-testid': 'dispatch-suggested' });
  dispatchBtn.addEventListener('click', () => void opts.dispatch(proposal, dispatchBtn));

  mount(
    box,
    head,
    unitsList(proposal.assignments),
    explain,
    s.warnings?.length ? h('ul', { class: 'sg-warnings small' }, s.warnings.map((w) => h('li', null, w))) : null,
    considered.length > 1 ? collapsible(t('sg_why'), consideredList(considered), { 'data-testid': 'suggestion-why' }) : null,
    others.length ? collapsible(t('sg_runner_ups', { n: others.length }), h('ul', { class: 'sg-alts' }, others.map((a) => alternativeRow(a, opts))), { 'data-testid': 'suggestion-runner-ups' }) : null,
    conflicts.length
      ? collapsible(
          t('sg_conflicts', { n: conflicts.length }),
          [h('p', { class: 'small muted' }, t('sg_conflict_note')), h('ul', { class: 'sg-alts' }, conflicts.map((a) => alternativeRow(a, opts)))],
          { 'data-testid': 'suggestion-conflicts', class: 'sg-more conflicts' },
          true,
        )
      : null,
    h(
      'div',
      { class: 'sg-actions' },
      dispatchBtn,
      button(t('sg_edit'), { class: 'btn ghost', 'data-testid': 'edit-suggested', onclick: () => opts.edit(proposal) }),
      s.catalogue_rules ? h('span', { class: 'muted small sg-source' }, t('sg_from_catalogue', { n: s.catalogue_rules })) : null,
    ),
  );
  return box;
}

/** A box that loads the suggestion for `tk` and renders it (or says why it cannot). */
export function suggestionBox(tk: TicketView, opts: SuggestionOpts, onLoaded?: (s: Suggestion) => void): HTMLElement {
  const box = h('div', { class: 'suggestion-host' }, h('div', { class: 'suggestion loading-sg', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), t('sg_loading')));
  api
    .route(tk.id)
    .then((s) => {
      mount(box, renderSuggestion(s, opts));
      onLoaded?.(s);
    })
    .catch((e) => {
      // a role that may dispatch but not see suggestions, or no catalogue: the manual form still works
      const msg = e instanceof ApiError ? e.text(lang()) : String(e);
      mount(box, h('div', { class: 'suggestion empty', 'data-testid': 'suggestion' }, h('p', { class: 'muted small' }, t('sg_unavailable', { error: msg }))));
    });
  return box;
}

/** Same units with the same roles (order aside)? */
export function sameAssignments(a: { unit_code: string; role: string }[], b: { unit_code: string; role: string }[]): boolean {
  if (a.length !== b.length) return false;
  const key = (x: { unit_code: string; role: string }) => `${x.unit_code}:${x.role}`;
  const sb = new Set(b.map(key));
  return a.every((x) => sb.has(key(x)));
}
