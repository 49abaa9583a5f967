// The dashboard's API calls (`/api/v1/analytics/*`), kept beside the shared `api.ts`.

import { request, requestBlob } from './api';
import type { AnalyticsFilter, GeoJsonCollection, DurationsAnswer, GroupAnswer, Interval, LedgerAnswer, MarkedRead, ReportInboxPage, ReportPage, SeriesAnswer, Subscriptions, UnreadCount } from './analytics-types';

type Params = Record<string, string | number | undefined | null>;

function qs(params: Params): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}

const BASE = '/api/v1/analytics';

export const analyticsApi = {
  group: (f: AnalyticsFilter, by: string[], top?: number) => request<GroupAnswer>('GET', `${BASE}/group${qs({ ...f, by: by.join(','), top })}`),
  series: (f: AnalyticsFilter, interval: Interval) => request<SeriesAnswer>('GET', `${BASE}/series${qs({ ...f, interval })}`),
  durations: (f: AnalyticsFilter, by: string) => request<DurationsAnswer>('GET', `${BASE}/durations${qs({ ...f, by })}`),
  ledger: (f: AnalyticsFilter, top: number) => request<LedgerAnswer>('GET', `${BASE}/ledger${qs({ ...f, top })}`),
  reports: (kind: 'daily' | 'weekly' | 'monthly', page = 1, pageSize = 20) => request<ReportPage>('GET', `${BASE}/reports${qs({ kind, page, page_size: pageSize })}`),
  /** The caller's report subscriptions (报告订阅): every kind, subscribed or not. */
  subscriptions: () => request<Subscriptions>('GET', `${BASE}/reports/subscriptions`),
  /** Replaces the caller's subscriptions (kinds left out are dropped). */
  setSubscriptions: (subs: { kind: string; webhook_url?: string | null }[]) => request<Subscriptions>('PUT', `${BASE}/reports/subscriptions`, { subscriptions: subs }),
  /** The city's own district/street boundaries (a GeoJSON FeatureCollection; 404 when none is loaded). */
  geojson: () => request<GeoJsonCollection>('GET', `${BASE}/geojson`),
  /** A report's printable HTML or workbook (its `html` / `xlsx` link), fetched with the session's token. */
  reportFile: (path: string) => requestBlob(path),
  /** The caller's report inbox (报告收件箱): the reports of their subscribed kinds, unread marked. */
  inbox: (page = 1, pageSize = 20) => request<ReportInboxPage>('GET', `/api/v1/inbox/reports${qs({ page, page_size: pageSize })}`),
  /** How many reports of the caller's inbox are unread (the navigation badge). */
  inboxUnread: () => request<UnreadCount>('GET', '/api/v1/inbox/reports/unread'),
  /** Marks one report read for the caller; answers the unread count left. */
  markRead: (id: number) => request<UnreadCount>('POST', `/api/v1/inbox/reports/${encodeURIComponent(String(id))}/read`),
  /** Marks every report of the caller's inbox read (全部标为已读). */
  markAllRead: () => request<MarkedRead>('POST', '/api/v1/inbox/reports/read'),
};

export function reportHtmlPath(id: string | number): string {
  return `${BASE}/reports/${encodeURIComponent(String(id))}/html`;
}

export function reportXlsxPath(id: string | number): string {
  return `${BASE}/reports/${encodeURIComponent(String(id))}/xlsx`;
}
