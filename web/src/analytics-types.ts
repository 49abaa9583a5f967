// The analytics API (`/api/v1/analytics/*`) as the dashboard reads it: the views the server
// declares in web/openapi.json, taken by route (so a renamed schema does not matter).

import type { operations } from './generated/api-types';

/** The JSON answer (200) of an operation of openapi.json. */
type Ok<K extends keyof operations> = operations[K] extends { responses: { 200: { content: { 'application/json': infer T } } } } ? T : never;

/** The filters every analytics route takes (city days `YYYY-MM-DD`, `to` exclusive; one code each). */
export interface AnalyticsFilter {
  from?: string;
  to?: string;
  district?: string;
  street?: string;
  /** A category code at any level. */
  category?: string;
  channel?: string;
  type?: string;
  unit?: string;
  unit_kind?: string;
}

/** `GET /api/v1/analytics/group?by=DIM[,DIM2]&top=N` */
export type GroupAnswer = Ok<'get_analytics_group'>;
export type GroupRow = GroupAnswer['rows'][number];
/** The counts and rates of a group (rates 0–1, null without a base). */
export type Measures = GroupAnswer['total'];
/** One key of a grouped row (a day, a district, a category …) with its names. */
export type DimKey = GroupRow['keys'][number];

/** `GET /api/v1/analytics/series?interval=` */
export type SeriesAnswer = Ok<'get_analytics_series'>;
export type SeriesPoint = SeriesAnswer['points'][number];
export type Interval = 'day' | 'week' | 'month';

/** `GET /api/v1/analytics/durations?by=DIM` */
export type DurationsAnswer = Ok<'get_analytics_durations'>;
export type DurationRow = DurationsAnswer['rows'][number];

/** `GET /api/v1/analytics/ledger?top=N` */
export type LedgerAnswer = Ok<'get_analytics_ledger'>;
export type LedgerRow = LedgerAnswer['rows'][number];

/** `GET /api/v1/analytics/reports?kind=&page=&page_size=` (日通报 / 周汇总 / 月分析) */
export type ReportPage = Ok<'get_analytics_reports'>;
export type ReportItem = ReportPage['items'][number];

/** `GET /api/v1/analytics/geojson`: the city's boundaries, each feature with `properties.code`. */
export interface GeoJsonCollection {
  type: 'FeatureCollection';
  features: { type: 'Feature'; properties: { code?: string | number; name?: string } & Record<string, unknown>; geometry: unknown }[];
}

/** `GET/PUT /api/v1/analytics/reports/subscriptions` — the caller's report subscriptions (报告订阅). */
export type Subscriptions = Ok<'get_analytics_reports_subscriptions'>;
export type SubscriptionItem = Subscriptions['items'][number];

/** `GET /api/v1/inbox/reports` — the caller's report inbox (报告收件箱), newest first, unread marked. */
export type ReportInboxPage = Ok<'get_inbox_reports'>;
export type ReportInboxItem = ReportInboxPage['items'][number];
/** `GET /api/v1/inbox/reports/unread` — the navigation badge's count. */
export type UnreadCount = Ok<'get_inbox_reports_unread'>;
/** `POST /api/v1/inbox/reports/read` — mark all read. */
export type MarkedRead = Ok<'post_inbox_reports_read'>;
