// What every page receives, and where a user lands after log-in.

import type { User } from './api';
import type { Route } from './router';

export interface PageCtx {
  root: HTMLElement;
  route: Route;
  /** False once the user has navigated away (async work should then stop touching the DOM). */
  alive: () => boolean;
  onCleanup: (f: () => void) => void;
}

export type Page = (ctx: PageCtx) => void | Promise<void>;

/**
 * Where a user lands after log-in, from what they may use (`/me`'s capabilities): leaders and the
 * dispatch desk on the overview (today, overdue, reviews, alerts), agents at intake, unit handlers
 * on their workbench, callback agents at the callback desk.
 */
export function homeFor(user: User | null | undefined): string {
  const has = (c: string) => user?.capabilities?.includes(c) ?? false;
  if (has('overview')) return '/overview';
  if (has('intake')) return '/intake';
  if (has('unit-desk')) return '/workbench';
  if (has('callback-desk')) return '/callbacks';
  if (has('grid-report')) return '/grid';
  return '/tickets';
}
