// The HTTP API client: typed wrappers over /api/v1, the bearer token, and problem+json errors.

import { t } from './i18n';
import type { components } from './generated/api-types';

// Response types of the views the server declares (generated from web/openapi.json by
// `npm run gen:api`, part of `npm run build`; see docs/API.md).
type Schemas = components['schemas'];
export type User = Schemas['UserView'];
export type LoginView = Schemas['LoginView'];
export type Problem = Schemas['Problem'];

export interface Unit {
  code: string;
  name: string;
  kind: string;
  kind_label?: string;
  dispatchable?: boolean;
  parent?: string | null;
  population?: number | null;
  zone?: string | null;
  active?: boolean;
}

export interface Category {
  code: string;
  name: string;
  level: number;
  domain?: string | null;
  children: Category[];
}

export interface EnumItem {
  value: string;
  label_zh: string;
  label_en: string;
}
export type Enums = Record<string, EnumItem[]>;

/** One ticket action of the server's action table (GET /api/v1/actions). */
export type ActionInfo = Schemas['ActionInfo'];
export type Deadlines = Schemas['Deadlines'];
export type AssignmentView = Schemas['AssignmentView'];
export type CallbackView = Schemas['CallbackRecord'];
export type TicketView = Schemas['TicketView'];
export type CreatedTicket = Schemas['CreatedTicket'];
/** 风险标记 — an emergency found in a request: its kind and the numbers to transfer to. */
export type RiskView = Schemas['RiskView'];
/** One clock as the server sees it. */
export type ClockState = Schemas['ClockState'];
export type Clock = Schemas['Clock'];
export type DeadlineSet = Schemas['DeadlineSet'];

/** One row of the ticket list; `next_clock` is a unit's nearest running clock. */
export type TicketSummary = Schemas['TicketListItem'];
export type NextClock = Schemas['NextClockView'];
export type TicketListPage = Schemas['TicketListPage'];

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  page_size: number;
}

export interface EventView {
  seq: number;
  at: string;
  kind: string;
  label_zh?: string;
  actor?: { user: string; role: string; unit?: string | null; unit_name?: string | null };
  [k: string]: unknown;
}

export interface TrackView {
  number: string;
  status: string;
  status_label?: string;
  created_at: string;
  category_path?: string[] | string;
  title: string;
  timeline: { at: string; kind: string; label_zh?: string; text?: string | null; unit_name?: string | null }[];
}

export type DemoInfo = Schemas['DemoInfo'];

// ---- routing: suggestions, catalogue, supervision, inbox ---------------------------------------

export interface SuggestedAssignment {
  unit_code: string;
  unit_name?: string | null;
  unit_kind?: string | null;
  role: 'lead' | 'assist';
}

export interface Rank {
  priority: number;
  place_level: number;
  prefix_len: number;
  keyword_count: number;
  enterprise_specified: boolean;
}

/** A complete alternative dispatch (runner-ups, conflicts, `next`). */
export interface Alternative {
  rule_id: string;
  rank?: Rank;
  assignments: SuggestedAssignment[];
  tier: string;
}

export interface ConsideredRule {
  rule_id: string;
  rank?: Rank;
  status: 'won' | 'tie' | 'lost' | 'skipped';
  reason_zh: string;
  reason_en: string;
}

/** `GET /api/v1/tickets/{id}/route` */
export interface Suggestion {
  assignments: SuggestedAssignment[];
  tier?: string | null;
  rule_id?: string | null;
  rank?: Rank | null;
  explanation: { zh: string; en: string; considered: ConsideredRule[] };
  /** The dispatch in words ("按派单目录：供暖 › 集中供热 → 热力集团"), when a rule was found. */
  words?: { zh: string; en: string } | null;
  runner_ups: Alternative[];
  conflicts: Alternative[];
  warnings?: string[];
  catalogue_rules?: number;
  /** Units whose return of this ticket was approved. */
  returned_units?: string[];
  /** The best dispatch whose lead is none of `returned_units` (null when none is left). */
  next?: Alternative | null;
}

export interface CatalogueRule {
  id: string;
  category_prefix?: string | null;
  category?: string | null;
  place?: string | null;
  keywords?: unknown;
  assignments: string;
  tier: string;
  effective_from: string;
  effective_to?: string | null;
  note?: string | null;
  /** The scope in words (`分类 1701 · 全市`, `category 1701, anywhere`). */
  scope_zh?: string;
  scope_en?: string;
  /** The rule's columns as text, as the inline editor shows them. */
  fields?: RuleFields;
}

/** Filters, order and page of a catalogue's rule list (`GET /catalogue/drafts/{version}/rules`). */
export interface RulesQuery {
  q?: string;
  tier?: string;
  kind?: string;
  in_force?: boolean;
  sort?: string;
  page?: number;
  page_size?: number;
}

/** One rule version's catalogue columns (the CSV row), for the inline editor. */
export interface RuleFields {
  id: string;
  effective_from: string;
  effective_to: string;
  priority: string;
  category_prefix: string;
  place: string;
  keywords: string;
  enterprise: string;
  assignments: string;
  tier: string;
  note: string;
}

export interface RuleKey {
  id: string;
  effective_from: string;
}

export type RuleEdit = { op: 'upsert'; rule: RuleFields; replaces?: RuleKey | null } | { op: 'remove'; key: RuleKey };

export interface CatalogueVersion {
  version: number;
  status?: string;
  rules: number;
  created_at: string;
  created_by: string;
  note?: string | null;
}

export interface CatalogueInfo {
  published_rules: number;
  rules: CatalogueRule[];
  draft: CatalogueVersion | null;
  history: CatalogueVersion[];
}

export interface LintReport {
  on: string;
  rules_total: number;
  rules_in_force: number;
  conflicts: { rule_a: string; rule_b: string; reason: string }[];
  gaps: {
    cells: number;
    gaps: number;
    by_top_category?: [string, string, number][];
    by_district?: [string, string, number][];
    sample: { category_code: string; category_name: string; street_code: string; street_name: string }[];
  };
  retired_units: { rule_id: string; effective_from: string; unit_ref: string; unit_code: string; unit_name: string; missing: boolean }[];
}

export interface UnitLoad {
  unit_code: string;
  unit_name: string;
  current: number;
  draft: number;
  delta: number;
}

export interface WhatIfReport {
  on: string;
  tickets: number;
  routed_current: number;
  routed_draft: number;
  changed_lead: number;
  changed_share: number;
  changed_tier: number;
  gainers: UnitLoad[];
  losers: UnitLoad[];
  by_tier: { tier: string; current: number; draft: number }[];
  mean_tier_hours_current: number;
  mean_tier_hours_draft: number;
  with_actual: number;
  agree_actual_current: number;
  agree_actual_draft: number;
  sample: { index: number; category_code: string; street_code: string; from_unit?: string | null; to_unit?: string | null; from_rule?: string | null; to_rule?: string | null }[];
  summary: string;
}

export interface Ageing {
  overdue: number;
  lt_1d: number;
  d1_3: number;
  d3_7: number;
  gt_7d: number;
}
export interface OverdueUnit extends Ageing {
  unit_code: string;
  unit_name?: string | null;
  kind?: string | null;
  oldest_hours: number;
}
export interface OverdueDistrict extends Ageing {
  district_code: string;
  district_name?: string | null;
}
export interface OverdueBoard {
  at: string;
  total: number;
  units: OverdueUnit[];
  districts: OverdueDistrict[];
}

export interface ClockView {
  due: string;
  state: string;
  state_label?: string;
  done_at?: string | null;
}
/** One pending return or extension request in the centre's review queue (审核队列). */
export interface ReviewItem {
  ticket_id: number;
  number: string;
  title: string;
  status: string;
  category_path?: string | null;
  district_name?: string | null;
  unit_code: string;
  unit_name?: string | null;
  role: string;
  kind: 'return' | 'extension';
  requested_at: string;
  review: ClockView;
  detail: { reason?: string; reason_label?: string; text?: string; until?: string; finish_due?: string };
}
export interface ReviewQueue {
  at: string;
  total: number;
  overdue: number;
  items: ReviewItem[];
}
export interface EscalationItem {
  ticket_id: number;
  number: string;
  title: string;
  status: string;
  status_label?: string;
  district_name?: string | null;
  open: boolean;
  hours_since?: number | null;
  lead?: { unit_code: string; unit_name?: string | null; state: string; state_label?: string; finish: ClockView } | null;
  escalations: { level: string; level_label?: string; to_unit?: string | null; to_unit_name?: string | null; reason: string; at: string }[];
}
export interface EscalationBoard {
  at: string;
  total: number;
  open: number;
  items: EscalationItem[];
}
export interface AccuracyRow {
  key: string;
  name?: string | null;
  dispatches: number;
  returned: number;
  accuracy: number;
}
export interface DispatchAccuracy {
  overall: number;
  dispatches: number;
  returned: number;
  by_dispatcher: AccuracyRow[];
  by_rule: AccuracyRow[];
  by_category: AccuracyRow[];
  by_unit_kind: AccuracyRow[];
  by_unit: AccuracyRow[];
}

export interface InboxItem {
  ticket_id: number;
  number: string;
  seq: number;
  at: string;
  kind: string;
  label_zh?: string;
  unit: string;
  clock: 'sign' | 'respond' | 'finish' | string;
  permille: number;
  overdue: boolean;
  /** 督办催办: the centre's note (kind `urged`). */
  note?: string;
  epoch?: number;
  index?: number;
  actor?: { user: string; role: string; unit?: string | null; unit_name?: string | null };
}

// ---- scores --------------------------------------------------------------------------------------

export type ScoreLevel = 'street' | 'district' | 'department' | 'enterprise';
export interface ScoreCounts {
  counted: number;
  responded: number;
  valid_callbacks: number;
  resolved: number;
  partly: number;
  unresolved: number;
  satisfied: number;
  basic: number;
  unsatisfied: number;
  exempted: number;
  excluded?: number;
}
export interface Interval {
  low: number;
  high: number;
}
export interface CaseMix {
  expected: number | null;
  ratio: number | null;
  adjusted: number | null;
}
export interface UnitScore extends ScoreCounts {
  unit_code: string;
  unit_name: string;
  kind: string;
  district_code?: string | null;
  response_rate: number | null;
  resolution_rate: number | null;
  satisfaction_rate: number | null;
  composite: number | null;
  rank: number | null;
  rank_tied: boolean;
  rank_label: string;
  not_ranked_reason?: string | null;
  intervals: { response: Interval | null; resolution: Interval | null; satisfaction: Interval | null };
  case_mix: { response: CaseMix; resolution: CaseMix; satisfaction: CaseMix };
  observation?: { requests: number; population: number | null; requests_per_10k: number | null; base_period: string; base_requests: number | null; base_ratio: number | null };
  industry?: (ScoreCounts & { source: string; categories: string[]; response: number | null; resolution: number | null; satisfaction: number | null; composite: number | null }) | null;
}
export interface Scorecard {
  period: string;
  level: ScoreLevel;
  policy_id: string;
  policy_name: string;
  policy_fingerprint: string;
  month_clock?: string;
  from: string;
  to: string;
  min_sample: number;
  totals: ScoreCounts & { response: number | null; resolution: number | null; satisfaction: number | null; composite: number | null };
  units: UnitScore[];
  top: string[];
  bottom: string[];
  exemptions: { ticket_id: number; number: string; unit_code: string; scored_unit: string; role: string; category_code: string; first_dispatched_at: string; reason: string; reason_zh: string }[];
  warnings: string[];
}

/** An API error: the problem+json body, or a network failure. */
export class ApiError extends Error {
  status: number;
  title: string;
  detail?: string;
  detail_zh?: string;
  field?: string;
  /** The whole problem object (extra members such as an edit's `problems`). */
  body: Record<string, unknown>;
  constructor(status: number, body: Record<string, unknown>) {
    const title = typeof body.title === 'string' ? body.title : `HTTP ${status}`;
    super(title);
    this.status = status;
    this.title = title;
    this.detail = typeof body.detail === 'string' ? body.detail : undefined;
    this.detail_zh = typeof body.detail_zh === 'string' ? body.detail_zh : undefined;
    this.field = typeof body.field === 'string' ? body.field : undefined;
    this.body = body;
  }
  /** The message in the UI language. */
  text(lang: 'zh' | 'en'): string {
    if (this.status === 0) return t('network_error');
    if (lang === 'zh') return this.detail_zh || this.detail || this.title;
    return this.detail || this.detail_zh || this.title;
  }
}

const TOKEN_KEY = 'jiesu.token';
let token: string | null = localStorage.getItem(TOKEN_KEY);
let onUnauthorized: (() => void) | null = null;

export function setToken(t: string | null): void {
  token = t;
  if (t) localStorage.setItem(TOKEN_KEY, t);
  else localStorage.removeItem(TOKEN_KEY);
}
export function hasToken(): boolean {
  return token !== null;
}
export function setUnauthorizedHandler(f: () => void): void {
  onUnauthorized = f;
}

export async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const h: Record<string, string> = { Accept: 'application/json, application/problem+json' };
  // a body whose Content-Type is given (e.g. text/csv) is sent as is; others as JSON
  const raw = body !== undefined && (typeof body === 'string' || body instanceof Blob) && 'Content-Type' in headers;
  if (body !== undefined && !raw) h['Content-Type'] = 'application/json';
  Object.assign(h, headers);
  if (token) h.Authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(path, { method, headers: h, body: body === undefined ? undefined : raw ? (body as string | Blob) : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, { title: t('network_error'), detail: String(e) });
  }
  const text = await res.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { title: text.slice(0, 200) };
    }
  }
  if (!res.ok) {
    if (res.status === 401 && token && !path.endsWith('/session')) {
      setToken(null);
      onUnauthorized?.();
    }
    throw new ApiError(res.status, (data as Record<string, unknown>) ?? {});
  }
  return data as T;
}

/** A GET whose answer is text (CSV); errors as in `request`. */
/** A GET of a download (CSV, xlsx) with the session's token; a failure becomes an ApiError. */
async function fetchDownload(path: string, accept: string): Promise<Response> {
  const h: Record<string, string> = { Accept: `${accept}, application/problem+json` };
  if (token) h.Authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(path, { headers: h });
  } catch (e) {
    throw new ApiError(0, { title: t('network_error'), detail: String(e) });
  }
  if (!res.ok) {
    const text = await res.text();
    let data: Record<string, unknown> = {};
    try {
      data = JSON.parse(text);
    } catch {
      data = { title: text.slice(0, 200) };
    }
    if (res.status === 401 && token) {
      setToken(null);
      onUnauthorized?.();
    }
    throw new ApiError(res.status, data);
  }
  return res;
}

/** A binary download (e.g. an xlsx export). */
export async function requestBlob(path: string): Promise<Blob> {
  return (await fetchDownload(path, '*/*')).blob();
}

async function requestText(path: string): Promise<string> {
  return (await fetchDownload(path, 'text/csv')).text();
}

function qs(params: Record<string, string | number | boolean | undefined | null>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '' || v === false) continue;
    u.set(k, String(v));
  }
  const s = u.toString();
  return s ? `?${s}` : '';
}

export interface KbHit {
  id: string;
  version: number;
  score: number;
  confidence: number;
  /** Escaped HTML except for <mark> highlights. */
  question_html: string;
  snippet_html: string;
  owner_unit?: string | null;
  categories?: string[];
  place_match?: boolean;
}

export interface KbAnswer {
  article_id: string;
  version: number;
  question: string;
  answer: string;
  policy_basis?: string | null;
  owner_unit?: string | null;
  owner_unit_name?: string | null;
  confidence: number;
}

export interface AskResult {
  answer: KbAnswer | null;
  suggestions: KbHit[];
  handover: { text: string; category_code?: string | null; district_code?: string | null; street_code?: string | null } | null;
  /** The stored session: a request filed from its hand-over is reported with it. */
  session_id?: string;
}

/** What the knowledge-base editor sends (a draft). */
export interface KbArticleInput {
  question: string;
  answer: string;
  policy_basis?: string;
  owner_unit: string;
  categories?: string[];
  tags?: string[];
  valid_from?: string;
  valid_to?: string | null;
}

export interface KbArticleFull extends KbArticleInput {
  id: string;
  version: number;
  status: string;
  status_zh?: string;
  reviewed_by?: string | null;
  owner_unit_name?: string | null;
}

export interface KbListItem {
  id: string;
  version: number;
  status: string;
  status_zh: string;
  question: string;
  owner_unit: string;
  owner_unit_name?: string | null;
  valid_from: string;
  valid_to?: string | null;
  published_version?: number | null;
  searchable_today: boolean;
  author?: string | null;
  updated_at?: string | null;
  review_note?: string | null;
}

export interface KbVersion {
  version: number;
  status: string;
  status_zh?: string;
  author: string;
  created_at: string;
  updated_at: string;
  reviewed_by?: string | null;
  reviewed_at?: string | null;
  review_note?: string | null;
  article: KbArticleFull;
}

export interface KbUsage {
  created: number;
  answered_directly: number;
  direct_answer_rate: number;
  articles: { article_id: string; question?: string | null; answered: number }[];
}

export interface AgentStats {
  asked: number;
  answered: number;
  handed_over: number;
  ticket_created: number;
  resolved_one_shot: number;
  one_shot_rate: number;
}

export interface ClassifyModel {
  ready: boolean;
  version?: string;
  trained_at?: string;
  examples?: number;
  corrections?: number;
  correction_weight: number;
  corrections_recorded: { reclassified: number; intake: number };
}

/** A proposed responsible unit: from a duty-catalogue rule, or from the unit model. */
export interface UnitSuggestion {
  unit_code: string;
  unit_name?: string | null;
  unit_kind?: string | null;
  source: 'rule' | 'model';
  rule_id?: string;
  runner_up?: boolean;
  confidence?: number;
  drivers?: [string, number][];
}

/** A place the text names (地点建议): street/town, and the community or estate when named. */
export interface PlaceSuggestion {
  district_code: string;
  street_code: string;
  community_code?: string | null;
  matched: string;
  confidence: number;
}

export interface ClassifyResult {
  /** Places named in the text, best first (confirmed by the agent, never filled in silently). */
  place?: PlaceSuggestion[];
  /** The confidence floors below which suggestions are hidden (server policy). */
  floors?: { category: number; unit: number; place: number };
  category: { code: string; path: string; confidence: number; drivers: [string, number][] }[];
  type: { label: string; label_zh: string; confidence: number; drivers: [string, number][] }[];
  unit?: UnitSuggestion[];
  unit_category?: string;
  model_version: string;
  trained_on: number;
}

export interface DuplicateItem {
  id: number;
  number: string;
  score: number;
  text_similarity: number;
  reasons_zh: string;
  reasons_en: string;
}

/** `GET /api/v1/overview`: the landing page of supervisors, leaders and dispatchers. */
export interface Overview {
  date: string;
  scope: string | null;
  today: { intake: number; href: string };
  open: { total: number; by_status: { status: string; label_zh: string; count: number; href: string }[] };
  overdue: { count: number; href: string };
  reviews: { returns: number; extensions: number; total: number; href: string };
  alerts: { code: string; zh: string; en: string; count: number; href: string }[];
  long_overdue_days: number;
}

/** `GET /api/v1/categories/search` (the category search that knows the citizen's words). */
export interface CategorySearch {
  query: string;
  expanded: string[];
  results: { code: string; name: string; path: string | string[]; level: number; matched?: string | null; uses_30d?: number }[];
}

/** `POST /api/v1/duplicates/candidates`: possibly the same request, while it is being taken. */
export interface DuplicateCandidate {
  id: number;
  number: string;
  title: string;
  status: string;
  created_at: string;
  score: number;
  reasons: { code: string; zh: string; en: string }[];
}

export const api = {
  overview: () => request<Overview>('GET', '/api/v1/overview'),
  categorySearch: (q: string, limit = 20) => request<CategorySearch>('GET', `/api/v1/categories/search${qs({ q, limit })}`),
  duplicateCandidates: (body: {
    title: string;
    text: string;
    category_code?: string;
    district_code?: string;
    street_code?: string;
    community_code?: string;
    phone?: string;
  }) => request<{ candidates: DuplicateCandidate[] }>('POST', '/api/v1/duplicates/candidates', body),
  kbSearch: (q: string, k = 5) => request<{ hits: KbHit[] }>('GET', `/api/v1/kb/search${qs({ q, k })}`),
  kbArticle: (id: string) =>
    request<{ id: string; version: number; question: string; answer: string; policy_basis: string }>(
      'GET',
      `/api/v1/kb/articles/${encodeURIComponent(id)}`,
    ),
  kbList: (p: { status?: string; q?: string; sort?: string; page?: number; page_size?: number } = {}) =>
    request<{ items: KbListItem[]; total: number; page: number; page_size: number }>('GET', `/api/v1/kb/articles${qs(p)}`),
  kbVersions: (id: string) => request<{ id: string; versions: KbVersion[] }>('GET', `/api/v1/kb/articles/${encodeURIComponent(id)}/versions`),
  kbCreate: (body: KbArticleInput) => request<KbArticleFull>('POST', '/api/v1/kb/articles', body),
  kbUpdate: (id: string, body: KbArticleInput) => request<KbArticleFull>('PUT', `/api/v1/kb/articles/${encodeURIComponent(id)}`, body),
  kbStep: (id: string, step: 'submit' | 'approve' | 'reject' | 'retire', note?: string) =>
    request<KbArticleFull>('POST', `/api/v1/kb/articles/${encodeURIComponent(id)}/${step}`, note ? { note } : {}),
  kbUsage: (from: string, to: string) => request<KbUsage>('GET', `/api/v1/kb/usage${qs({ from, to })}`),
  ask: (question: string) => request<AskResult>('POST', '/api/v1/public/ask', { question }),
  askHandover: (session: string, number: string) =>
    request<{ outcome: string }>('POST', `/api/v1/public/ask/${encodeURIComponent(session)}/ticket`, { number }),
  agentStats: (from?: string, to?: string) =>
    request<AgentStats>('GET', `/api/v1/kb/stats${from && to ? `?from=${from}&to=${to}` : ''}`),
  classify: (body: {
    title?: string;
    text: string;
    category_code?: string;
    district_code?: string;
    street_code?: string;
    community_code?: string;
    enterprise?: boolean;
  }) => request<ClassifyResult>('POST', '/api/v1/classify', body),
  /** The classifier's top suggestion at intake, reported after the ticket is created (corrections). */
  classifyFeedback: (body: { ticket_id: number; suggested_category?: string; suggested_type?: string; model_version?: string }) =>
    request<{ recorded: boolean; corrected: boolean }>('POST', '/api/v1/classify/feedback', body),
  classifyModel: () => request<ClassifyModel>('GET', '/api/v1/classify/model'),
  duplicates: (id: number | string) =>
    request<{ items: DuplicateItem[] }>('GET', `/api/v1/tickets/${encodeURIComponent(String(id))}/duplicates`),
  login: (username: string, password: string) =>
    request<{ token: string; user: User }>('POST', '/api/v1/session', { username, password }),
  /** 退出登录: the server refuses the token from the next request on. */
  logout: () => request<null>('POST', '/api/v1/session/logout'),
  me: () => request<User>('GET', '/api/v1/me'),
  demo: () => request<DemoInfo>('GET', '/api/v1/demo'),
  units: (p: { kind?: string; parent?: string; dispatchable?: boolean }) => request<Unit[]>('GET', `/api/v1/units${qs(p)}`),
  categories: () => request<Category[]>('GET', '/api/v1/categories'),
  enums: () => request<Enums>('GET', '/api/v1/enums'),
  actions: () => request<{ items: ActionInfo[] }>('GET', '/api/v1/actions'),
  /** 风险识别 while the agent types: the emergency and the numbers to transfer to, or null. */
  riskCheck: (body: { title: string; text: string }) => request<Schemas['CheckAnswer']>('POST', '/api/v1/risk/check', body),
  createTicket: (body: unknown, idempotencyKey: string) =>
    request<CreatedTicket>('POST', '/api/v1/tickets', body, { 'Idempotency-Key': idempotencyKey }),
  tickets: (p: Record<string, string | number | boolean | undefined>) =>
    request<TicketListPage>('GET', `/api/v1/tickets${qs(p)}`),
  ticket: (id: number | string) => request<TicketView>('GET', `/api/v1/tickets/${encodeURIComponent(String(id))}`),
  events: (id: number | string) =>
    request<EventView[]>('GET', `/api/v1/tickets/${encodeURIComponent(String(id))}/events`),
  action: (id: number | string, action: string, body: unknown) =>
    request<TicketView>('POST', `/api/v1/tickets/${encodeURIComponent(String(id))}/${action}`, body),
  track: (number: string, code: string) =>
    request<TrackView>('GET', `/api/v1/track/${encodeURIComponent(number)}${qs({ code })}`),
  route: (id: number | string) => request<Suggestion>('GET', `/api/v1/tickets/${encodeURIComponent(String(id))}/route`),
  catalogue: () => request<CatalogueInfo>('GET', '/api/v1/catalogue'),
  lint: () => request<LintReport>('GET', '/api/v1/catalogue/lint'),
  /** The CSV as text (the export needs the bearer token, so it is fetched, not linked). */
  exportCatalogue: (draft = false) => requestText(`/api/v1/catalogue/export.csv${draft ? '?version=draft' : ''}`),
  /** One page of a catalogue's rules (`published` with `in_force`: the rules in force today). */
  draftRules: (version: number | 'draft' | 'published' = 'draft', p: RulesQuery = {}) =>
    request<{ version: number | null; rules: CatalogueRule[]; total: number; page: number; page_size: number; catalogue_rules: number }>('GET', `/api/v1/catalogue/drafts/${version}/rules${qs({ ...p })}`),
  editDraft: (baseVersion: number | null, edit: RuleEdit) =>
    request<{ version: number; status: string; rules: number; lint: LintReport }>('POST', '/api/v1/catalogue/draft/edit', { base_version: baseVersion, edit }),
  exportCatalogueXlsx: (draft = false) => requestBlob(`/api/v1/catalogue/export.xlsx${draft ? '?version=draft' : ''}`),
  // a CSV text, or the file as picked (CSV or xlsx: the server tells them apart by content)
  importCatalogue: (file: string | Blob) =>
    request<{ version: number; status: string; rules: number; lint: LintReport }>('POST', '/api/v1/catalogue/import', file, {
      'Content-Type': typeof file === 'string' ? 'text/csv; charset=utf-8' : file.type || 'application/octet-stream',
    }),
  whatif: (version: number, months: number) =>
    request<WhatIfReport>('GET', `/api/v1/catalogue/drafts/${version}/whatif${qs({ months })}`),
  publish: (version: number) =>
    request<{ version: number; status: string; rules: number }>('POST', `/api/v1/catalogue/drafts/${version}/publish`, {}),
  overdue: () => request<OverdueBoard>('GET', '/api/v1/supervision/overdue'),
  reviewQueue: () => request<ReviewQueue>('GET', '/api/v1/supervision/reviews'),
  escalations: () => request<EscalationBoard>('GET', '/api/v1/supervision/escalations'),
  dispatchAccuracy: () => request<DispatchAccuracy>('GET', '/api/v1/supervision/dispatch-accuracy'),
  remindBulk: (b: { units?: string[]; tickets?: number[]; note: string }) =>
    request<{ urged: number; skipped: number; tickets: { id: number; number: string }[] }>('POST', '/api/v1/supervision/remind', b),
  scores: (month: string, level: ScoreLevel) => request<Scorecard>('GET', `/api/v1/scores/${encodeURIComponent(month)}/${level}`),
  inbox: () => request<{ items: InboxItem[] }>('GET', '/api/v1/inbox'),
  /** 网格上报: a grid worker's report (channel grid), then its photos. */
  gridReport: (body: unknown, idempotencyKey: string) =>
    request<{ id: number; number: string; tracking_code?: string | null; lat?: number | null; lng?: number | null; photos_href: string }>('POST', '/api/v1/grid/reports', body, {
      'Idempotency-Key': idempotencyKey,
    }),
  gridPhoto: (id: number, file: Blob, name: string) =>
    request<{ id: string; file_name: string; size: number }>('POST', `/api/v1/grid/reports/${id}/photos?name=${encodeURIComponent(name)}`, file, {
      'Content-Type': file.type || 'image/jpeg',
    }),
  publicSubmit: (body: unknown, idempotencyKey: string) =>
    request<{ number: string; tracking_code?: string | null; status_label?: string }>('POST', '/api/v1/public/tickets', body, {
      'Idempotency-Key': idempotencyKey,
    }),
};
