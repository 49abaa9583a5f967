// Shared state: the signed-in user and cached reference data (enumerations, categories, units).

import { api, setToken, type Category, type Enums, type InboxItem, type Unit, type User, type ActionInfo } from './api';
import { lang, tMaybe } from './i18n';
import { setDueSoonShare } from './format';

export const session: { user: User | null } = { user: null };

/** The list page the user came from (the ticket page's back link returns there, filters kept). */
export const lastList: { hash: string; title: 'tickets_title' | 'workbench_title' | 'callbacks_title' | 'inbox_title' } = { hash: '', title: 'tickets_title' };

export function rememberList(title: typeof lastList.title): void {
  lastList.hash = location.hash;
  lastList.title = title;
}

/**
 * Whether the signed-in user has a capability (`catalogue-publish`, `remind-bulk`, …), as `/me`
 * says — the server's capability table decides; the UI keeps no role lists of its own.
 * Ticket actions come from each ticket's `allowed_actions` instead.
 */
export function can(capability: string): boolean {
  return session.user?.capabilities?.includes(capability) ?? false;
}

export function signOut(): void {
  setToken(null);
  session.user = null;
  lastList.hash = '';
}


// ---- the action table ----------------------------------------------------------------------

let actionTable: Map<string, ActionInfo> | null = null;
let actionsPromise: Promise<Map<string, ActionInfo> | null> | null = null;

/** Loads GET /api/v1/actions once (labels and body fields of every ticket action). */
export function loadActions(): Promise<Map<string, ActionInfo> | null> {
  if (actionTable) return Promise.resolve(actionTable);
  if (!actionsPromise) {
    actionsPromise = api
      .actions()
      .then((r) => (actionTable = new Map(r.items.map((a) => [a.name, a]))))
      .catch(() => {
        actionsPromise = null;
        return null;
      });
  }
  return actionsPromise;
}

/** The server's entry for an action, once loaded. */
export function actionInfo(name: string): ActionInfo | undefined {
  return actionTable?.get(name);
}

// ---- enumerations ---------------------------------------------------------------------------

let enums: Enums | null = null;
let enumsPromise: Promise<Enums | null> | null = null;

/** Loads GET /api/v1/enums once; resolves to null if unavailable (labels then fall back to i18n). */
export function loadEnums(): Promise<Enums | null> {
  if (enums) return Promise.resolve(enums);
  if (!enumsPromise) {
    enumsPromise = api
      .enums()
      .then((e) => {
        setDueSoonShare((e as unknown as { deadline_policy?: { due_soon_share?: number } }).deadline_policy?.due_soon_share);
        return (enums = e);
      })
      .catch(() => {
        enumsPromise = null;
        return null;
      });
  }
  return enumsPromise;
}

/** The label of an enumeration value in the UI language, e.g. enumLabel('types', 'complaint'). */
export function enumLabel(group: string, value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '';
  const item = enums?.[group]?.find((i) => i.value === value);
  // Chinese labels come from the API; English ones from our table first (the API's are derived
  // from the wire names), then the API's.
  if (item && lang() === 'zh') return item.label_zh;
  return tMaybe(`enum.${group}.${value}`) ?? item?.label_en ?? item?.label_zh ?? value;
}

/** The options of an enumeration (from the API, or the values given as fallback). */
export function enumOptions(group: string, fallback: string[] = []): { value: string; label: string }[] {
  const items = enums?.[group];
  const values = items && items.length ? items.map((i) => i.value) : fallback;
  return values.map((v) => ({ value: v, label: enumLabel(group, v) }));
}

export const TYPES = ['consultation', 'help', 'complaint', 'report', 'suggestion', 'praise'];
export const CHANNELS = ['phone', 'web', 'wechat', 'app', 'weibo', 'message_board', 'grid', 'partner_hotline'];
export const STATUSES = [
  'new',
  'answered',
  'special_handled',
  'dispatched',
  'in_progress',
  'return_review',
  'result_submitted',
  'callback_done',
  'closed',
  'merged',
  'archived',
];
export const TIERS = ['2h', '24h', '7d', '15d'];

// ---- categories ------------------------------------------------------------------------------

export interface CategoryLeaf {
  code: string;
  name: string;
  path: string[];
  /** lower-cased path joined, for search */
  haystack: string;
}

interface CategoryIndex {
  tree: Category[];
  leaves: CategoryLeaf[];
  byCode: Map<string, CategoryLeaf>;
}

let categories: CategoryIndex | null = null;
let categoriesPromise: Promise<CategoryIndex> | null = null;

/** Loads the category tree once and indexes it (leaves with their paths, every node by code). */
export function loadCategories(): Promise<CategoryIndex> {
  if (categories) return Promise.resolve(categories);
  if (!categoriesPromise) {
    const p = api.categories().then((tree) => {
      const leaves: CategoryLeaf[] = [];
      const byCode = new Map<string, CategoryLeaf>();
      const walk = (nodes: Category[], path: string[]) => {
        for (const n of nodes) {
          const np = [...path, n.name];
          const entry = { code: n.code, name: n.name, path: np, haystack: `${np.join(' ')} ${n.code}`.toLowerCase() };
          byCode.set(n.code, entry);
          if (!n.children || n.children.length === 0) leaves.push(entry);
          else walk(n.children, np);
        }
      };
      walk(tree, []);
      categories = { tree, leaves, byCode };
      return categories;
    });
    p.catch(() => (categoriesPromise = null));
    categoriesPromise = p;
  }
  return categoriesPromise;
}

/** The category's path as text, if the tree is loaded. */
export function categoryPathText(code: string): string {
  const c = categories?.byCode.get(code);
  return c ? c.path.join(' › ') : code;
}

// ---- units -----------------------------------------------------------------------------------

const unitQueries = new Map<string, Promise<Unit[]>>();
const unitNames = new Map<string, string>();

/** GET /api/v1/units with the given filter, cached per filter. */
export function loadUnits(p: { kind?: string; parent?: string }): Promise<Unit[]> {
  const key = `${p.kind ?? ''}|${p.parent ?? ''}`;
  let q = unitQueries.get(key);
  if (!q) {
    q = api.units(p).then((us) => {
      for (const u of us) unitNames.set(u.code, u.name);
      return us.filter((u) => u.active !== false);
    });
    q.catch(() => unitQueries.delete(key));
    unitQueries.set(key, q);
  }
  return q;
}

/** Unit kinds a ticket can be dispatched to. */
export const DISPATCH_KINDS = [
  'street_town',
  'district_department',
  'city_department',
  'state_enterprise',
  'ecommerce',
  'other',
  'district',
];

let dispatchUnits: Promise<Unit[]> | null = null;

/** All dispatchable units: `GET /api/v1/units?dispatchable=true` (one request, cached). */
export function loadDispatchUnits(): Promise<Unit[]> {
  if (!dispatchUnits) {
    const p = api.units({ dispatchable: true }).then((us) => {
      for (const u of us) unitNames.set(u.code, u.name);
      return us.filter((u) => u.dispatchable !== false && u.active !== false && DISPATCH_KINDS.includes(u.kind));
    });
    p.catch(() => (dispatchUnits = null));
    dispatchUnits = p;
  }
  return dispatchUnits;
}

export function rememberUnit(code: string | null | undefined, name: string | null | undefined): void {
  if (code && name) unitNames.set(code, name);
}

/** A unit's name if known, else its code. */
export function unitName(code: string | null | undefined): string {
  if (!code) return '';
  return unitNames.get(code) ?? code;
}

// ---- inbox (unit roles) ------------------------------------------------------------------------

const SEEN_KEY = 'jiesu.inbox.seen';
let inboxCache: { at: number; user: string; p: Promise<InboxItem[]> } | null = null;

/** GET /api/v1/inbox, cached for a minute (the top bar asks on every page). */
export function loadInbox(force = false): Promise<InboxItem[]> {
  const user = session.user?.username ?? '';
  if (!force && inboxCache && inboxCache.user === user && Date.now() - inboxCache.at < 60_000) return inboxCache.p;
  const p = api.inbox().then((r) => r.items ?? []);
  p.catch(() => (inboxCache = null));
  inboxCache = { at: Date.now(), user, p };
  return p;
}

/** The newest notice time the user has seen (per user, in localStorage). */
export function inboxSeen(): string {
  return localStorage.getItem(`${SEEN_KEY}.${session.user?.username ?? ''}`) ?? '';
}

export function markInboxSeen(at: string): void {
  if (at && at > inboxSeen()) localStorage.setItem(`${SEEN_KEY}.${session.user?.username ?? ''}`, at);
}

/** Notices newer than the last visit to the inbox. */
export function unreadCount(items: InboxItem[]): number {
  const seen = inboxSeen();
  return items.filter((i) => !seen || i.at > seen).length;
}
