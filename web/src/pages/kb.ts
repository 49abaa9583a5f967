// Knowledge-base maintenance (知识库维护, #/kb): browse every article's newest version, edit
// (a published article gets a new draft version), submit for review, approve or send back (a
// supervisor other than the author), retire; each article's versions; and how the knowledge base
// is used — direct answers per article and the direct-answer rate (GET /api/v1/kb/usage), and the
// virtual agent's one-shot resolution rate (GET /api/v1/kb/stats), over the last 30 days.

import { api, ApiError, type KbArticleFull, type KbArticleInput, type KbListItem, type KbVersion } from '../api';
import { errorBlock, loadingBlock, pageHeader } from '../components';
import { button, clearErrors, field, h, input, mount, select, showFieldError, textarea, toast } from '../dom';
import { cityDay, fmtTime } from '../format';
import { lang, t } from '../i18n';
import type { PageCtx } from '../page';
import { pageOf, pager, setHashQuery } from '../pager';
import { can } from '../store';

const STATUSES = ['draft', 'in_review', 'published', 'retired'];

const pct = (x: number) => `${(Math.max(0, Math.min(1, x)) * 100).toFixed(1)}%`;
const day = (d: Date) => cityDay(d);
const errText = (e: unknown) => (e instanceof ApiError ? e.text(lang()) : String(e));
const statusLabel = (s: string) => t(`kbm_status_${s}` as 'kbm_status_draft');

/** The admin list's orders (`sort` in the URL; the server sorts). */
const SORTS = ['id', 'updated'] as const;

export async function kbPage({ root, route, alive }: PageCtx): Promise<void> {
  const reviewer = can('kb-review');
  // status, search, order and page live in the URL (`#/kb?status=draft&q=居住证&sort=updated&page=3`)
  const asked = route.query;
  const askedStatus = STATUSES.includes(asked.get('status') ?? '') ? asked.get('status')! : '';
  const askedSort = (SORTS as readonly string[]).includes(asked.get('sort') ?? '') ? asked.get('sort')! : 'id';
  let page = pageOf(asked);
  const statusSel = select('status', [{ value: '', label: t('kbm_all') }, ...STATUSES.map((s) => ({ value: s, label: statusLabel(s) }))], { value: askedStatus });
  const sortSel = select('sort', SORTS.map((s) => ({ value: s, label: t(`kbm_sort_${s}`) })), { value: askedSort });
  const q = input('q', { type: 'search', placeholder: t('kbm_search'), 'aria-label': t('kbm_search'), value: asked.get('q') ?? '' });
  const usageBox = h('div', { class: 'kbm-usage', 'data-testid': 'kb-usage' });
  const listBox = h('div', { class: 'kbm-list', 'data-testid': 'kb-list' });
  const editorBox = h('div', { class: 'kbm-editor' });
  let used = new Map<string, number>();

  mount(
    root,
    pageHeader(t('kbm_title'), t('kbm_lead'), button(t('kbm_new'), { class: 'btn primary', 'data-testid': 'kb-new', onclick: () => openEditor(null) })),
    usageBox,
    h('section', { class: 'card' }, h('div', { class: 'grid3 filters kbm-filters' }, field(t('kbm_status'), statusSel, { name: 'status' }), field(t('kbm_search'), q, { name: 'q' }), field(t('kbm_sort'), sortSel, { name: 'sort' })), listBox),
    editorBox,
  );

  async function loadUsage() {
    const now = new Date();
    const from = day(new Date(now.getTime() - 30 * 86_400_000));
    const to = day(new Date(now.getTime() + 86_400_000));
    try {
      const [u, a] = await Promise.all([api.kbUsage(from, to), api.agentStats(from, to)]);
      used = new Map(u.articles.map((x) => [x.article_id, x.answered]));
      mount(
        usageBox,
        h(
          'div',
          { class: 'stats' },
          h('div', { class: 'stat info', 'data-testid': 'kb-direct-rate' }, h('span', { class: 'stat-n' }, pct(u.direct_answer_rate)), h('span', { class: 'stat-l' }, t('kbm_direct_rate', { n: u.answered_directly, total: u.created }))),
          h('div', { class: 'stat info', 'data-testid': 'kb-one-shot' }, h('span', { class: 'stat-n' }, pct(a.one_shot_rate)), h('span', { class: 'stat-l' }, t('kbm_one_shot', { n: a.resolved_one_shot, total: a.asked }))),
          h('div', { class: 'stat' }, h('span', { class: 'stat-n' }, String(u.articles.length)), h('span', { class: 'stat-l' }, t('kbm_articles_used'))),
          h('div', { class: 'stat' }, h('span', { class: 'stat-l' }, t('kbm_period', { from, to }))),
        ),
      );
    } catch (e) {
      mount(usageBox, errorBlock(errText(e)));
    }
  }

  /** What the list shows now, as the server is asked for it. */
  const wanted = () => ({ status: statusSel.value || undefined, q: q.value.trim() || undefined, sort: sortSel.value === 'id' ? undefined : sortSel.value, page });
  let asking = '';
  async function loadList() {
    const want = wanted();
    const key = JSON.stringify(want);
    asking = key;
    mount(listBox, loadingBlock());
    try {
      const r = await api.kbList(want);
      // the user left, or changed the filters meanwhile
      if (!alive() || asking !== key) return;
      renderList(r.items, r.total, r.page_size);
    } catch (e) {
      if (alive() && asking === key) mount(listBox, errorBlock(errText(e), () => void loadList()));
    }
  }

  /** Filters changed: back to page 1, the URL rewritten (typing does not add history entries). */
  function refilter() {
    page = 1;
    setHashQuery({ status: statusSel.value, q: q.value.trim(), sort: sortSel.value === 'id' ? undefined : sortSel.value, page: undefined }, 'replace');
    void loadList();
  }

  function renderList(items: KbListItem[], total: number, pageSize: number) {
    const pages =
      total > pageSize || page > 1
        ? pager(page, pageSize, total, (p) => {
            page = p;
            setHashQuery({ page: p }, 'push');
            void loadList();
          }, 'kb-pager')
        : null;
    if (!items.length) return mount(listBox, h('p', { class: 'muted' }, page > 1 && total ? t('list_page_empty') : t('kbm_empty')), pages);
    mount(
      listBox,
      h('p', { class: 'muted small' }, t('kbm_count', { n: total })),
      h(
        'div',
        { class: 'table-scroll' },
        h(
          'table',
          { class: 'table kbm-table', 'data-testid': 'kb-table' },
          h('thead', null, h('tr', null, [t('kbm_id'), t('kbm_question'), t('kbm_status'), t('kbm_version'), t('kbm_owner'), t('kbm_valid'), t('kbm_used')].map((c) => h('th', { scope: 'col' }, c)))),
          h(
            'tbody',
            null,
            items.map((a) =>
              h(
                'tr',
                { 'data-article': a.id, 'data-status': a.status },
                h('td', null, button(a.id, { class: 'btn link', 'data-testid': 'kb-open', onclick: () => void openEditor(a.id) })),
                h('td', null, a.question),
                h('td', null, h('span', { class: `tag status-${a.status}` }, statusLabel(a.status)), a.searchable_today ? null : h('span', { class: 'tag warn', title: t('kbm_not_searchable') }, t('kbm_not_today'))),
                h('td', null, `v${a.version}${a.published_version && a.published_version !== a.version ? ` (${t('kbm_in_use')} v${a.published_version})` : ''}`),
                h('td', null, a.owner_unit_name ?? a.owner_unit),
                h('td', null, `${a.valid_from} – ${a.valid_to ?? t('kbm_open_end')}`),
                h('td', { 'data-testid': 'kb-used' }, String(used.get(a.id) ?? 0)),
              ),
            ),
          ),
        ),
      ),
      pages,
    );
  }

  async function openEditor(id: string | null) {
    let versions: KbVersion[] = [];
    if (id) {
      mount(editorBox, loadingBlock());
      try {
        versions = (await api.kbVersions(id)).versions;
      } catch (e) {
        return mount(editorBox, errorBlock(errText(e)));
      }
    }
    const latest = versions[versions.length - 1];
    const a: Partial<KbArticleFull> = latest?.article ?? {};
    const status = latest?.status ?? 'draft';
    const f = {
      question: input('question', { maxlength: 200, value: a.question ?? '' }),
      answer: textarea('answer', { rows: 6, maxlength: 20000 }),
      policy: input('policy_basis', { maxlength: 500, value: a.policy_basis ?? '' }),
      owner: input('owner_unit', { value: a.owner_unit ?? '' }),
      categories: input('categories', { value: (a.categories ?? []).join(', ') }),
      tags: input('tags', { value: (a.tags ?? []).join(', ') }),
      from: input('valid_from', { type: 'date', value: a.valid_from ?? '' }),
      to: input('valid_to', { type: 'date', value: a.valid_to ?? '' }),
      note: textarea('note', { rows: 2, maxlength: 1000 }),
    };
    f.answer.value = a.answer ?? '';
    const split = (s: string) => s.split(/[,，\s]+/).map((x) => x.trim()).filter(Boolean);
    const body = (): KbArticleInput => ({
      question: f.question.value.trim(),
      answer: f.answer.value.trim(),
      policy_basis: f.policy.value.trim(),
      owner_unit: f.owner.value.trim(),
      categories: split(f.categories.value),
      tags: split(f.tags.value),
      valid_from: f.from.value || undefined,
      valid_to: f.to.value || null,
    });
    const form = h('form', { class: 'card kbm-form', 'data-testid': 'kb-editor', 'data-article': id ?? '', 'data-status': status, novalidate: true });
    const run = async (what: () => Promise<KbArticleFull>, done: string) => {
      clearErrors(form);
      try {
        const r = await what();
        toast(t(done as 'kbm_saved', { id: r.id }));
        await loadList();
        await openEditor(r.id);
      } catch (e) {
        showFieldError(form, e instanceof ApiError ? e.field : undefined, errText(e));
      }
    };
    const inReview = status === 'in_review';
    const buttons = [
      !inReview
        ? button(t('kbm_save'), { class: 'btn primary', 'data-testid': 'kb-save', onclick: () => void run(() => (id ? api.kbUpdate(id, body()) : api.kbCreate(body())), 'kbm_saved') })
        : null,
      id && status === 'draft' ? button(t('kbm_submit'), { class: 'btn', 'data-testid': 'kb-submit', onclick: () => void run(() => api.kbStep(id, 'submit'), 'kbm_submitted') }) : null,
      id && inReview && reviewer ? button(t('kbm_approve'), { class: 'btn primary', 'data-testid': 'kb-approve', onclick: () => void run(() => api.kbStep(id, 'approve', f.note.value.trim() || undefined), 'kbm_approved') }) : null,
      id && inReview && reviewer
        ? button(t('kbm_reject'), {
            class: 'btn',
            'data-testid': 'kb-reject',
            onclick: () => {
              if (!f.note.value.trim()) return void showFieldError(form, 'note', t('kbm_reject_needs_note'));
              void run(() => api.kbStep(id, 'reject', f.note.value.trim()), 'kbm_rejected');
            },
          })
        : null,
      id && reviewer && versions.some((v) => v.status === 'published') ? button(t('kbm_retire'), { class: 'btn ghost', 'data-testid': 'kb-retire', onclick: () => void run(() => api.kbStep(id, 'retire'), 'kbm_retired') }) : null,
    ];
    mount(
      form,
      h('h2', null, id ? `${id} · v${latest?.version ?? 1} · ${statusLabel(status)}` : t('kbm_new')),
      latest?.review_note ? h('div', { class: 'alert info' }, `${t('kbm_review_note')}：${latest.review_note}`) : null,
      inReview ? h('p', { class: 'muted small' }, reviewer ? t('kbm_review_hint') : t('kbm_in_review_locked')) : null,
      field(t('kbm_question'), f.question, { name: 'question', required: true }),
      field(t('kbm_answer'), f.answer, { name: 'answer', required: true }),
      field(t('kbm_policy'), f.policy, { name: 'policy_basis' }),
      h('div', { class: 'grid2' }, field(t('kbm_owner'), f.owner, { name: 'owner_unit', required: true, hint: t('kbm_owner_hint') }), field(t('kbm_categories'), f.categories, { name: 'categories', hint: t('kbm_codes_hint') })),
      field(t('kbm_tags'), f.tags, { name: 'tags', hint: t('kbm_tags_hint') }),
      h('div', { class: 'grid2' }, field(t('kbm_valid_from'), f.from, { name: 'valid_from' }), field(t('kbm_valid_to'), f.to, { name: 'valid_to', hint: t('kbm_open_end') })),
      id && inReview && reviewer ? field(t('kbm_review_note'), f.note, { name: 'note' }) : null,
      h('div', { class: 'form-error' }),
      h('div', { class: 'actions-row' }, buttons),
    );
    mount(
      editorBox,
      form,
      versions.length
        ? h(
            'section',
            { class: 'card', 'data-testid': 'kb-versions' },
            h('h3', null, t('kbm_versions')),
            h(
              'div',
              { class: 'table-scroll' },
              h(
              'table',
              { class: 'table' },
              h('thead', null, h('tr', null, [t('kbm_version'), t('kbm_status'), t('kbm_author'), t('kbm_reviewer'), t('kbm_updated'), t('kbm_review_note')].map((c) => h('th', { scope: 'col' }, c)))),
              h(
                'tbody',
                null,
                [...versions].reverse().map((v) =>
                  h('tr', { 'data-version': v.version, 'data-status': v.status }, h('td', null, `v${v.version}`), h('td', null, statusLabel(v.status)), h('td', null, v.author), h('td', null, v.reviewed_by ?? '—'), h('td', null, fmtTime(v.updated_at)), h('td', null, v.review_note ?? '')),
                ),
              ),
            ),
            ),
          )
        : null,
    );
    form.scrollIntoView({ block: 'start' });
  }

  let timer: number | undefined;
  statusSel.addEventListener('change', refilter);
  sortSel.addEventListener('change', refilter);
  q.addEventListener('input', () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(refilter, 300);
  });
  await loadUsage();
  await loadList();
}
