// What every page receives, and where each role lands after log-in.

import type { Route } from './router';

export interface PageCtx {
  root: HTMLElement;
  route: Route;
  /** False once the user has navigated away (async work should then stop touching the DOM). */
  alive: () => boolean;
  onCleanup: (f: () => void) => void;
}

export type Page = (ctx: PageCtx) => void | Promise<void>;

/** Where each role lands after log-in. */
export function homeFor(role: string | undefined): string {
  switch (role) {
    case 'agent':
      return '/intake';
    case 'dispatcher':
    case 'supervisor':
    case 'admin':
    case 'unit_manager':
      // leaders and the dispatch desk land on the overview (today, overdue, reviews, alerts)
      return '/overview';
    case 'unit_handler':
      return '/workbench';
    case 'callback_agent':
      return '/callbacks';
    default:
      return '/tickets';
  }
}
