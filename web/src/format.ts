// Time formatting and deadline clocks. All times are shown in the city's time zone (the server's
// `time_zone` setting, Asia/Shanghai by default), whatever the browser's zone: the platform runs one
// city's hotline.

import { h } from './dom';
import { lang, t, tMaybe } from './i18n';

export const TZ = 'Asia/Shanghai';

let dtfZone = '';
let dtfCache: Intl.DateTimeFormat | null = null;
/** A numeric formatter in the city's zone (rebuilt when the zone becomes known). */
function dtf(): Intl.DateTimeFormat {
  const tz = cityTimeZone();
  if (!dtfCache || dtfZone !== tz) {
    dtfZone = tz;
    dtfCache = new Intl.DateTimeFormat('en-CA', {
      timeZone: tz,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hour12: false,
    });
  }
  return dtfCache;
}

function parts(d: Date): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of dtf().formatToParts(d)) out[p.type] = p.value;
  if (out.hour === '24') out.hour = '00';
  return out;
}

/** 2024-05-01 14:03 (city time). */
export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = parts(d);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

/** The city's calendar date of an instant, `YYYY-MM-DD` (for date inputs and `from`/`to` queries). */
export function cityDay(d: Date): string {
  const p = parts(d);
  return `${p.year}-${p.month}-${p.day}`;
}

/** 2024-05-01 (city time). */
export function fmtDate(iso: string | null | undefined): string {
  return fmtTime(iso).slice(0, 10);
}

/** The value for an <input type="datetime-local"> showing `d` in city time. */
export function toLocalInput(d: Date): string {
  const p = parts(d);
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

/** RFC 3339 (UTC) from a datetime-local value read as city time. */
export function fromLocalInput(v: string): string {
  const local = v.length === 16 ? `${v}:00` : v;
  const wall = Date.parse(`${local}Z`); // the wall-clock time as if it were UTC
  if (Number.isNaN(wall)) return v;
  // the zone's offset at that moment (twice, so a guess on the other side of a DST change settles)
  let t = wall;
  for (let i = 0; i < 2; i++) {
    const p = parts(new Date(t));
    const asUtc = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +(p.second ?? 0));
    t = wall - (asUtc - t);
  }
  return new Date(t).toISOString();
}

/**
 * A duration in words, rounded down the same way everywhere: under 1 hour in whole minutes
 * ("40 分钟", "不足 1 分钟" in the first minute), under 24 hours in hours and minutes
 * ("2 小时 5 分钟", "2 小时" on the hour), else in days and hours ("3 天 4 小时", "3 天"). Rounding
 * down never shows more time left than there is, and "超时" never shows more than has passed.
 */
export function fmtDuration(ms: number): string {
  const mins = Math.floor(Math.abs(ms) / 60000);
  if (mins < 1) return t('rem_lt_min');
  const d = Math.floor(mins / 1440);
  const hh = Math.floor((mins % 1440) / 60);
  const m = mins % 60;
  const n = (x: number, unit: 'rem_d' | 'rem_h' | 'rem_m') => `${x} ${t(unit)}`;
  if (d > 0) return hh > 0 ? `${n(d, 'rem_d')} ${n(hh, 'rem_h')}` : n(d, 'rem_d');
  if (hh > 0) return m > 0 ? `${n(hh, 'rem_h')} ${n(m, 'rem_m')}` : n(hh, 'rem_h');
  return n(m, 'rem_m');
}

/** The server's clock minus the browser's (from the `at` of an answer; 0 until one is seen), so
 * the time left agrees with the server's states also under a test clock or a skewed browser. */
let serverOffset = 0;
export function useServerTime(at: string | null | undefined): void {
  const s = at ? Date.parse(at) : NaN;
  if (!Number.isNaN(s)) serverOffset = s - Date.now();
}
/** Now by the server's clock (see `useServerTime`). */
export function serverNow(): number {
  return Date.now() + serverOffset;
}

/**
 * The time left to a deadline, or past it: "还剩 2 小时 5 分钟" / "超时 3 天" ("2 h 5 min left" /
 * "3 d overdue"). The one wording of a remaining time, used by every clock (the workbench cards,
 * the ticket page's clocks, the review queue, the inbox); rounded as `fmtDuration` says (always
 * down). `now` defaults to the server's time (`serverNow`).
 */
export function remaining(due: string | number | Date, now: number = serverNow()): string {
  const end = typeof due === 'number' ? due : new Date(due).getTime();
  const diff = end - now;
  return diff >= 0 ? t('rem_left', { d: fmtDuration(diff) }) : t('rem_over', { d: fmtDuration(diff) });
}

export type DueState = 'ok' | 'soon' | 'overdue' | 'done';

/** The share of a clock's span that counts as "due soon" (server policy, `GET /enums`
 * `deadline_policy.due_soon_share`; set by the store when the enums load). */
let soonShare = 0.2;
export function setDueSoonShare(x: number | null | undefined): void {
  if (typeof x === 'number' && x > 0 && x < 1) soonShare = x;
}

/**
 * Whether a deadline is comfortable, due soon or overdue. "Soon" is the last `soonShare` of the
 * span from `start` to the deadline (the same rule as the server's `due_soon`); without a start,
 * nothing is "soon" (a fresh 24-hour ticket must not be flagged at once).
 */
export function dueState(deadline: string, start?: string | null, now = serverNow()): DueState {
  const end = new Date(deadline).getTime();
  if (now > end) return 'overdue';
  const left = end - now;
  if (start) {
    const total = end - new Date(start).getTime();
    if (total > 0 && left < total * soonShare) return 'soon';
  }
  return 'ok';
}

/** The server's clock states (TicketView.deadlines) → the colour classes. */
const SERVER_STATE: Record<string, DueState> = { running: 'ok', due_soon: 'soon', overdue: 'overdue', met: 'done', met_late: 'overdue' };

/**
 * A deadline clock: the due time and the time left (or overdue), coloured by state.
 * `doneAt` set = the step was completed (shown neutral, red if it was late). `state` is the
 * server's verdict (`running | due_soon | overdue | met | met_late`) and wins over the local one.
 */
export function deadlineClock(
  deadline: string | null | undefined,
  opts: { start?: string | null; doneAt?: string | null; label?: string; stopped?: boolean; state?: string | null } = {},
): HTMLElement {
  if (!deadline) return h('span', { class: 'muted' }, '—');
  const end = new Date(deadline).getTime();
  let state: DueState;
  let text: string;
  if (opts.doneAt) {
    const late = opts.state ? opts.state === 'met_late' : new Date(opts.doneAt).getTime() > end;
    state = late ? 'overdue' : 'done';
    text = late ? remaining(end, new Date(opts.doneAt).getTime()) : t('dl_done');
  } else if (opts.stopped) {
    state = 'done';
    text = '—';
  } else {
    state = (opts.state && SERVER_STATE[opts.state]) || dueState(deadline, opts.start);
    text = remaining(end);
  }
  const serverState = opts.state ?? null;
  return h(
    'span',
    {
      class: `clock ${state}`,
      title: `${opts.label ? `${opts.label} ` : ''}${fmtTime(deadline)}${serverState ? ` · ${tMaybe(`clk_${serverState}`) ?? serverState}` : ''}`,
      'data-due': state,
      'data-state': serverState,
      'data-deadline': deadline,
    },
    opts.label ? h('span', { class: 'clock-label' }, opts.label, serverState && serverState !== 'running' ? h('span', { class: `clock-state ${state}` }, tMaybe(`clk_${serverState}`) ?? serverState) : null) : null,
    h('span', { class: 'clock-time' }, fmtTime(deadline)),
    h('span', { class: 'clock-left' }, text),
  );
}

export function pathText(p: string[] | string | undefined | null): string {
  if (!p) return '';
  return Array.isArray(p) ? p.join(' › ') : p;
}

// ---- dates in the UI language --------------------------------------------------------------------

let cityZone: string | null = null;

/** The city's time zone as the server gives it (`time_zone` of GET /api/v1/enums), if it does. */
export function useServerTimeZone(from: unknown): void {
  const tz = from && typeof from === 'object' ? (from as { time_zone?: unknown }).time_zone : undefined;
  if (typeof tz !== 'string' || !tz) return;
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    cityZone = tz;
  } catch {
    /* an unknown zone: keep Beijing time */
  }
}

/** The city's time zone: the server's, else Asia/Shanghai. */
export function cityTimeZone(): string {
  return cityZone ?? TZ;
}

/** The locale of the UI language (never the browser's). */
export function uiLocale(): string {
  return lang() === 'zh' ? 'zh-CN' : 'en-GB';
}

const LOCAL_STYLES: Record<'datetime' | 'date' | 'month', Intl.DateTimeFormatOptions> = {
  datetime: { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false },
  date: { year: 'numeric', month: 'short', day: 'numeric' },
  month: { year: 'numeric', month: 'long' },
};

/**
 * A time in the UI language and the city's zone: "2026年10月8日 14:28" / "8 Oct 2026, 14:28";
 * `month`: "2026年10月" / "October 2026". A `YYYY-MM` string is read as that month.
 */
export function fmtLocal(iso: string | null | undefined, style: 'datetime' | 'date' | 'month' = 'datetime'): string {
  if (!iso) return '';
  const m = /^(\d{4})-(\d{2})$/.exec(iso);
  // a bare month: the middle of it, so no zone moves it into the next or previous month
  const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 15, 12)) : new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(uiLocale(), { ...LOCAL_STYLES[style], timeZone: m ? 'UTC' : cityTimeZone() }).format(d);
}
