// The public transparency page (透明度): the key the city signs its event log's checkpoints with,
// the latest checkpoint (a C2SP signed note) and the ones before it, how an outsider verifies
// them — and a button that checks, in this browser, the latest checkpoint's signature and that it
// extends the previous one (RFC 9162 consistency proof). See docs/SECURITY.md "Verifying the log".

import { errorBlock, loadingBlock } from '../components';
import { button, h, mount } from '../dom';
import { fmtLocal, useServerTimeZone } from '../format';
import { t } from '../i18n';
import { fromB64, ledgerApi, openNote, verifyConsistency, type CheckpointPage, type LogKeyView } from '../ledger';
import type { PageCtx } from '../page';
import { loadEnums } from '../store';

/** A verification outcome line: 已验证 / 验证失败 with the detail. */
export function verdictLine(ok: boolean, detail: string, testid: string): HTMLElement {
  return h(
    'p',
    { class: `verdict ${ok ? 'ok' : 'bad'}`, role: 'status', 'data-testid': testid, 'data-ok': String(ok) },
    h('strong', null, ok ? `✓ ${t('tr_verified')}` : `✗ ${t('tr_failed')}`),
    ' ',
    h('span', null, detail),
  );
}

function keyCard(k: LogKeyView): HTMLElement {
  const row = (label: string, value: string, testid?: string) =>
    h('div', { class: 'tr-row' }, h('dt', null, label), h('dd', null, h('code', { class: 'tr-code', 'data-testid': testid ?? null }, value)));
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'tr-key-h' },
    h('h2', { id: 'tr-key-h' }, t('tr_key')),
    h('p', { class: 'muted' }, t('tr_key_lead')),
    h('dl', { class: 'tr-list' }, row(t('tr_origin'), k.origin), row(t('tr_algorithm'), k.algorithm), row(t('tr_public_key'), k.public_key, 'tr-public-key'), row(t('tr_key_id'), k.key_id), row(t('tr_verifier_key'), k.verifier_key, 'tr-verifier-key')),
  );
}

function checkpointsCard(k: LogKeyView, page: CheckpointPage): HTMLElement {
  const latest = page.latest;
  const out = h('div', { 'aria-live': 'polite' });
  const check = async () => {
    if (!latest) return;
    mount(out, loadingBlock());
    try {
      const body = await openNote(latest.note, k.origin, k.public_key);
      const prev = page.items.find((c) => c.tree_size < latest.tree_size);
      let detail = t('tr_sig_ok', { n: body.treeSize });
      if (prev) {
        const c = await ledgerApi.consistency(prev.tree_size, latest.tree_size);
        const ok = await verifyConsistency(prev.tree_size, latest.tree_size, fromB64(prev.root_hash), body.root, c.proof.map(fromB64));
        if (!ok) {
          mount(out, verdictLine(false, t('tr_cons_bad', { m: prev.tree_size, n: latest.tree_size }), 'tr-verdict'));
          return;
        }
        detail += ` ${t('tr_cons_ok', { m: prev.tree_size, n: latest.tree_size })}`;
      }
      mount(out, verdictLine(true, detail, 'tr-verdict'));
    } catch (e) {
      mount(out, verdictLine(false, e instanceof Error ? e.message : String(e), 'tr-verdict'));
    }
  };
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'tr-cp-h' },
    h('h2', { id: 'tr-cp-h' }, t('tr_latest')),
    latest
      ? [
          h('p', { class: 'muted' }, t('tr_latest_lead', { n: latest.tree_size, at: fmtLocal(latest.at), total: page.log_size })),
          h('pre', { class: 'tr-note', 'data-testid': 'tr-note', tabindex: 0, 'aria-label': t('tr_note') }, latest.note),
          button(t('tr_check_latest'), { class: 'btn primary', 'data-testid': 'tr-check', onclick: () => void check() }),
          out,
        ]
      : h('p', null, t('tr_none')),
    page.items.length > 1
      ? h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'table tr-table' },
            h('caption', null, t('tr_history')),
            h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('tr_size')), h('th', { scope: 'col' }, t('tr_time')), h('th', { scope: 'col' }, t('tr_root')))),
            h('tbody', null, page.items.map((c) => h('tr', null, h('td', { class: 'num' }, c.tree_size), h('td', null, fmtLocal(c.at)), h('td', null, h('code', { class: 'tr-code' }, c.root_hash))))),
          ),
        )
      : null,
  );
}

function howCard(): HTMLElement {
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'tr-how-h' },
    h('h2', { id: 'tr-how-h' }, t('tr_how')),
    h('ol', { class: 'tr-steps' }, h('li', null, t('tr_how_1')), h('li', null, t('tr_how_2')), h('li', null, t('tr_how_3')), h('li', null, t('tr_how_4'))),
    h('p', { class: 'muted' }, t('tr_how_more')),
  );
}

export async function transparencyPage({ root, alive }: PageCtx): Promise<void> {
  void loadEnums().then(useServerTimeZone);
  const head = h('header', { class: 'page-head' }, h('div', null, h('h1', null, t('tr_title')), h('p', { class: 'lead' }, t('tr_lead'))));
  mount(root, h('div', { class: 'narrow' }, head, loadingBlock()));
  const load = async () => {
    try {
      const [k, page] = await Promise.all([ledgerApi.key(), ledgerApi.checkpoints(10)]);
      if (!alive()) return;
      mount(root, h('div', { class: 'narrow tr-page', 'data-testid': 'transparency' }, head, keyCard(k), checkpointsCard(k, page), howCard()));
    } catch (e) {
      if (!alive()) return;
      mount(root, h('div', { class: 'narrow' }, head, errorBlock(e instanceof Error ? e.message : String(e), () => void load())));
    }
  };
  await load();
}
