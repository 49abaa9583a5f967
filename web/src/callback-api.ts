// API client for the callback desk and scorecard drill-down (kept beside api.ts so that the
// shared client stays small): self-rating links, the citizen's rating page, the re-check sample and
// outcomes, the unresolved-callback review queue, and the tickets behind a scorecard figure.

import { request, type ScoreLevel } from './api';

export interface DueItem {
  id: number;
  number: string;
  title: string;
  status: string;
  status_label?: string;
  lead_unit?: string | null;
  lead_unit_name?: string | null;
  finish_deadline?: string | null;
  reason: 'result_submitted' | 'deadline_passed';
  unreachable_attempts: number;
  max_attempts: number;
}

export interface RatingLink {
  token: string;
  /** `/#/rate/{token}` (relative to the site). */
  url: string;
  expires_at: string;
}

export interface RateInfo {
  number: string;
  title: string;
  result_text?: string | null;
  units: string[];
  status_label?: string;
}

export interface AnsweredCallback {
  round: number;
  at: string;
  contacted: boolean;
  resolution: string;
  resolution_label?: string;
  satisfaction: string;
  satisfaction_label?: string;
  attitude?: string | null;
  comment?: string | null;
  by?: string | null;
  self_rating: boolean;
}

export interface RecheckRecord {
  id: number;
  ticket_id: number;
  number: string;
  round: number;
  callback_at: string;
  verdict: 'agree' | 'disagree';
  verdict_zh: string;
  note?: string | null;
  user: string;
  at: string;
}

export interface SampleItem {
  id: number;
  number: string;
  title: string;
  status: string;
  category_code: string;
  lead_unit?: string | null;
  lead_unit_name?: string | null;
  round?: number;
  callback: AnsweredCallback | null;
  unreachable_attempts?: number;
  recheck: RecheckRecord | null;
}

export interface UnresolvedItem {
  id: number;
  number: string;
  title: string;
  category_code: string;
  lead_unit?: string | null;
  lead_unit_name?: string | null;
  round: number;
  satisfaction?: string | null;
  callback_at?: string | null;
}

export const MEASURES = ['counted', 'responded', 'valid_callbacks', 'resolved', 'partly', 'unresolved', 'satisfied', 'basic', 'unsatisfied', 'exempted', 'excluded'] as const;
export type Measure = (typeof MEASURES)[number];

export interface DrillRow {
  ticket_id: number;
  number: string;
  unit_code: string;
  role: string;
  type: string;
  category_code: string;
  district_code: string;
  street_code: string;
  tier: string;
  state: string;
  round: number;
  first_dispatched_at?: string | null;
  dispatched_at: string;
  responded_at?: string | null;
  respond_deadline: string;
  finished_at?: string | null;
  finish_deadline: string;
  contacted?: boolean | null;
  resolution?: string | null;
  satisfaction?: string | null;
  exempt_reason?: string | null;
  responded_in_time: boolean;
  counted_resolution?: string | null;
}

export interface DrillPage {
  period: string;
  level: ScoreLevel;
  /** null: the level's totals (every unit of the level). */
  unit_code: string | null;
  unit_name: string | null;
  scope: 'unit' | 'industry';
  measure: Measure;
  measure_zh: string;
  policy_id: string;
  policy_name: string;
  policy_fingerprint: string;
  policy_period: string;
  month_clock: string;
  from: string;
  to: string;
  figure: number;
  industry_categories: string[];
  total: number;
  page: number;
  page_size: number;
  items: DrillRow[];
}

const enc = encodeURIComponent;

function qs(p: Record<string, string | number | undefined>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(p)) if (v !== undefined && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}

/** The drill-down's URL (also the CSV link with `format=csv`); no unit: the level's totals. */
export function drillUrl(p: { month: string; unit?: string; level: ScoreLevel; measure: Measure; scope?: 'unit' | 'industry'; page?: number; page_size?: number; format?: 'csv' }): string {
  if (!p.unit) return `/api/v1/scores/${enc(p.month)}/${p.level}/tickets${qs({ measure: p.measure, page: p.page, page_size: p.page_size, format: p.format })}`;
  return `/api/v1/scores/${enc(p.month)}/units/${enc(p.unit)}/tickets${qs({ measure: p.measure, level: p.level, scope: p.scope === 'industry' ? 'industry' : undefined, page: p.page, page_size: p.page_size, format: p.format })}`;
}

export const cbApi = {
  due: (p: { page?: number; page_size?: number } = {}) => request<{ items: DueItem[]; total: number; page: number; page_size: number }>('GET', `/api/v1/callbacks/due${qs(p)}`),
  ratingLink: (id: number) => request<RatingLink>('POST', `/api/v1/tickets/${id}/rating-link`, {}),
  rateInfo: (token: string) => request<RateInfo>('GET', `/api/v1/public/rate/${enc(token)}`),
  rate: (token: string, body: { contacted: boolean; resolution: string; satisfaction: string; comment?: string }) =>
    request<{ number: string; status: string; status_label?: string }>('POST', `/api/v1/public/rate/${enc(token)}`, body),
  sample: (from: string, to: string, n: number) => request<{ items: SampleItem[]; max_attempts: number }>('GET', `/api/v1/callbacks/recheck-sample${qs({ from, to, n })}`),
  recheck: (body: { ticket_id: number; verdict: 'agree' | 'disagree'; note?: string }) => request<RecheckRecord>('POST', '/api/v1/callbacks/rechecks', body),
  rechecks: (from: string, to: string) => request<{ items: RecheckRecord[]; agree: number; disagree: number }>('GET', `/api/v1/callbacks/rechecks${qs({ from, to })}`),
  unresolved: () => request<{ items: UnresolvedItem[] }>('GET', '/api/v1/callbacks/unresolved'),
  drill: (p: { month: string; unit?: string; level: ScoreLevel; measure: Measure; scope?: 'unit' | 'industry'; page?: number; page_size?: number }) => request<DrillPage>('GET', drillUrl(p)),
};
