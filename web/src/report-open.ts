// Opening a stored report (日通报 / 周汇总 / 月分析) from the dashboard or the report inbox: its
// printable HTML in a new tab, its workbook as a download, both fetched with the session's token.

import { analyticsApi } from './analytics-api';
import { ApiError } from './api';
import { saveBlob, toast } from './dom';
import { lang, t } from './i18n';

const errText = (e: unknown) => (e instanceof ApiError ? e.text(lang()) : e instanceof Error ? e.message : String(e));

/**
 * Opens a bulletin's HTML in a new tab. The route needs the session's bearer token, which a plain
 * link does not send, so the page fetches the HTML and writes it into a tab it opened at once,
 * inside the click (no pop-up blocker stops it). That tab shares this page's Content-Security-Policy,
 * which refuses the bulletin's one `<style>` block; its rules are given to the tab as a constructed
 * style sheet instead (CSSOM, which the policy allows). Fetching it marks it read for the caller
 * (报告收件箱); answers whether it opened.
 */
export async function openReport(ev: MouseEvent, path: string): Promise<boolean> {
  ev.preventDefault();
  const w = window.open('', '_blank');
  try {
    const html = await (await analyticsApi.reportFile(path)).text();
    if (!w) {
      // no new tab (a pop-up blocker): the bulletin opens here, unstyled
      location.assign(URL.createObjectURL(new Blob([html], { type: 'text/html;charset=utf-8' })));
      return true;
    }
    const css = [...html.matchAll(/<style[^>]*>([\s\S]*?)<\/style>/gi)].map((m) => m[1]).join('\n');
    const doc = w.document;
    doc.open();
    doc.write(html.replace(/<style[^>]*>[\s\S]*?<\/style>/gi, ''));
    doc.close();
    if (css) {
      const sheet = new (w as unknown as typeof window).CSSStyleSheet();
      sheet.replaceSync(css);
      doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
    }
    return true;
  } catch (e) {
    w?.close();
    toast(t('dash_report_failed', { e: errText(e) }), 'error');
    return false;
  }
}

/** Downloads a bulletin's workbook (fetched with the token, saved through a `blob:` link; marks it
 * read for the caller); answers whether it downloaded. */
export async function downloadReport(ev: MouseEvent, path: string, name: string): Promise<boolean> {
  ev.preventDefault();
  try {
    saveBlob(await analyticsApi.reportFile(path), name);
    return true;
  } catch (e) {
    toast(t('dash_report_failed', { e: errText(e) }), 'error');
    return false;
  }
}
