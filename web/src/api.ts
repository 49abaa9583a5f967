// The HTTP API client: typed wrappers over /api/v1, the bearer token, and problem+json errors.

import { t } from './i18n';

export interface User {
  username: string;
  role: string;
  unit_code?: string | null;
  unit_name?: string | null;
}

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

export interface Deadlines {
  sign: string;
  respond: string;
  finish: string;
}

export interface AssignmentView {
  unit_code: string;
  unit_name?: string;
  role: string;
  tier: string;
  state: string;
  state_label?: string;
  dispatched_at: string;
  deadlines: Deadlines;
  signed_at?: string | null;
  responded_at?: string | null;
  finished_at?: string | null;
  pending_return?: { reason: string; text: string; at: string } | null;
  pending_extension?: { until: string; reason: string; at: string } | null;
  round: number;
}

export interface CallbackView {
  round: number;
  at: string;
  outcome: {
    outcome: 'reached' | 'unreachable';
    contacted?: boolean;
    resolution?: string;
    satisfaction?: string;
    attitude?: string | null;
    comment?: string | null;
    note?: string | null;
  };
}

export interface TicketView {
  id: number;
  number: string;
  status: string;
  status_label?: string;
  channel: string;
  type: string;
  category_code: string;
  category_path?: string[] | string;
  title: string;
  text: string;
  tier?: string | null;
  place: {
    district_code: string;
    district_name?: string;
    street_code: string;
    street_name?: string;
    community_code?: string | null;
    community_name?: string | null;
    address?: string | null;
  };
  requester: { name: string; phone: string; masked?: boolean };
  enterprise?: boolean;
  created_at: string;
  first_dispatched_at?: string | null;
  assignments: AssignmentView[];
  answer?: string | null;
  result_text?: string | null;
  callbacks?: CallbackView[];
  whistles?: unknown[];
  escalations?: unknown[];
  merged_into?: unknown;
  duplicates?: unknown[];
  allowed_actions?: string[];
}

export interface TicketSummary {
  id: number;
  number: string;
  created_at: string;
  channel: string;
  type: string;
  category_code: string;
  district_code: string;
  street_code: string;
  status: string;
  title: string;
  lead_unit?: string | null;
  finish_deadline?: string | null;
  status_label?: string;
  category_path?: string | string[];
  lead_unit_name?: string | null;
  street_name?: string | null;
  overdue?: boolean;
}

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

export interface DemoInfo {
  demo: boolean;
  accounts: { username: string; password: string; role: string; unit_code?: string | null; unit_name?: string | null; note?: string }[];
}

/** An API error: the problem+json body, or a network failure. */
export class ApiError extends Error {
  status: number;
  title: string;
  detail?: string;
  detail_zh?: string;
  field?: string;
  constructor(status: number, body: Record<string, unknown>) {
    const title = typeof body.title === 'string' ? body.title : `HTTP ${status}`;
    super(title);
    this.status = status;
    this.title = title;
    this.detail = typeof body.detail === 'string' ? body.detail : undefined;
    this.detail_zh = typeof body.detail_zh === 'string' ? body.detail_zh : undefined;
    this.field = typeof body.field === 'string' ? body.field : undefined;
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
  const h: Record<string, string> = { Accept: 'application/json, application/problem+json', ...headers };
  if (body !== undefined) h['Content-Type'] = 'application/json';
  if (token) h.Authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
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

function qs(params: Record<string, string | number | boolean | undefined | null>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '' || v === false) continue;
    u.set(k, String(v));
  }
  const s = u.toString();
  return s ? `?${s}` : '';
}

export const api = {
  login: (username: string, password: string) =>
    request<{ token: string; user: User }>('POST', '/api/v1/session', { username, password }),
  me: () => request<User>('GET', '/api/v1/me'),
  demo: () => request<DemoInfo>('GET', '/api/v1/demo'),
  units: (p: { kind?: string; parent?: string }) => request<Unit[]>('GET', `/api/v1/units${qs(p)}`),
  categories: () => request<Category[]>('GET', '/api/v1/categories'),
  enums: () => request<Enums>('GET', '/api/v1/enums'),
  createTicket: (body: unknown, idempotencyKey: string) =>
    request<TicketView>('POST', '/api/v1/tickets', body, { 'Idempotency-Key': idempotencyKey }),
  tickets: (p: Record<string, string | number | boolean | undefined>) =>
    request<Page<TicketSummary>>('GET', `/api/v1/tickets${qs(p)}`),
  ticket: (id: number | string) => request<TicketView>('GET', `/api/v1/tickets/${encodeURIComponent(String(id))}`),
  events: (id: number | string) =>
    request<EventView[]>('GET', `/api/v1/tickets/${encodeURIComponent(String(id))}/events`),
  action: (id: number | string, action: string, body: unknown) =>
    request<TicketView>('POST', `/api/v1/tickets/${encodeURIComponent(String(id))}/${action}`, body),
  track: (number: string, last4: string) =>
    request<TrackView>('GET', `/api/v1/track/${encodeURIComponent(number)}${qs({ phone_last4: last4 })}`),
  publicSubmit: (body: unknown, idempotencyKey: string) =>
    request<{ number: string; status_label?: string }>('POST', '/api/v1/public/tickets', body, {
      'Idempotency-Key': idempotencyKey,
    }),
};
