// Hash routing: every page lives at `#/path?query`, so the server only ever serves index.html.

export interface Route {
  /** e.g. "/tickets/42" */
  path: string;
  /** path segments, e.g. ["tickets", "42"] */
  parts: string[];
  query: URLSearchParams;
}

export function currentRoute(): Route {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [pathPart, queryPart = ''] = raw.split('?', 2);
  const path = pathPart.startsWith('/') ? pathPart : `/${pathPart}`;
  return {
    path,
    parts: path.split('/').filter(Boolean).map(decodeURIComponent),
    query: new URLSearchParams(queryPart),
  };
}

/** Goes to `#${path}`; with `replace` the history entry is replaced. */
export function navigate(path: string, replace = false): void {
  const target = `#${path}`;
  if (location.hash === target) {
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    return;
  }
  if (replace) location.replace(target);
  else location.hash = target;
}

/** Builds `#/path?query` for links. */
export function href(path: string, query?: Record<string, string | number | undefined | null | boolean>): string {
  if (!query) return `#${path}`;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '' || v === false) continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `#${path}?${s}` : `#${path}`;
}
