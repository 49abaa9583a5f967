// Time formatting and deadline clocks. All times are shown in Beijing time (Asia/Shanghai),
// whatever the browser's zone: the platform runs one city's hotline.

import { h } from './dom';
import { t, tMaybe } from './i18n';

export const TZ = 'Asia/Shanghai';

const dtf = new Intl.DateTimeFormat('en-CA', {
  timeZone: TZ,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
});

function parts(d: Date): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of dtf.formatToParts(d)) out[p.type] = p.value;
  if (out.hour === '24') out.hour = '00';
  return out;
}

/** 2024-05-01 14:03 (Beijing time). */
export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = parts(d);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

/** 2024-05-01 (Beijing time). */
export function fmtDate(iso: string | null | undefined): string {
  return fmtTime(iso).slice(0, 10);
}

/** The value for an <input type="datetime-local"> showing `d` in Beijing time. */
export function toLocalInput(d: Date): string {
  const p = parts(d);
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

/** RFC 3339 from a datetime-local value read as Beijing time. */
export function fromLocalInput(v: string): string {
  return `${v.length === 16 ? `${v}:00` : v}+08:00`;
}

/** 3天4小时 / 2 h 5 min */
export function fmtDuration(ms: number): string {
  const mins = Math.max(0, Math.round(Math.abs(ms) / 60000));
  const d = Math.floor(mins / 1440);
  const hh = Math.floor((mins % 1440) / 60);
  const m = mins % 60;
  const sep = t('unit_d') === '天' ? '' : ' ';
  if (d > 0) return `${d}${sep}${t('unit_d')}${hh > 0 ? `${sep}${hh}${sep}${t('unit_h')}` : ''}`;
  if (hh > 0) return `${hh}${sep}${t('unit_h')}${m > 0 ? `${sep}${m}${sep}${t('unit_m')}` : ''}`;
  return `${m}${sep}${t('unit_m')}`;
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
export function dueState(deadline: string, start?: string | null, now = Date.now()): DueState {
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
    text = late ? t('dl_over', { d: fmtDuration(new Date(opts.doneAt).getTime() - end) }) : t('dl_done');
  } else if (opts.stopped) {
    state = 'done';
    text = '—';
  } else {
    state = (opts.state && SERVER_STATE[opts.state]) || dueState(deadline, opts.start);
    const diff = end - Date.now();
    text = diff >= 0 ? t('dl_left', { d: fmtDuration(diff) }) : t('dl_over', { d: fmtDuration(diff) });
  }
  const serverState = opts.state ?? null;
  return h(
    'span',
    {
      class: `clock ${state}`,
      title: `${opts.label ? `${opts.label} ` : ''}${fmtTime(deadline)}${serverState ? ` · ${tMaybe(`clk_${serverState}`) ?? serverState}` : ''}`,
      'data-due': state,
      'data-state': serverState,
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
