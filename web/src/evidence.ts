// Evidence on the result form (办结反馈的佐证材料): photos and PDF files picked with the result,
// checked here (type, size) so a bad file is refused before anything is sent, each uploaded through
// the attachments API (POST /api/v1/tickets/{id}/attachments?name=…, the file as the body) when the
// result is submitted, their ids sent as the result's `evidence`. A failed upload keeps the text and
// the files; the ones already uploaded are not sent again.

import { ApiError, request } from './api';
import { button, h, input, mount } from './dom';
import { lang, t } from './i18n';

/** The server's limit per file (`attachments::MAX_BYTES` in jiesu-http). */
export const MAX_EVIDENCE_BYTES = 10 * 1024 * 1024;
const MAX_MB = MAX_EVIDENCE_BYTES / (1024 * 1024);
/** What the file input offers: images of any kind and PDF. */
const ACCEPT = 'image/*,application/pdf,.pdf';

interface Uploaded {
  id: string;
  file_name: string;
  size: number;
}

interface Picked {
  file: File;
  uploaded?: Uploaded;
}

/** "1.2 MB" / "35 KB". */
function sizeText(n: number): string {
  return n >= 1024 * 1024 ? `${(n / (1024 * 1024)).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1024))} KB`;
}

function isImageOrPdf(f: File): boolean {
  if (f.type) return f.type.startsWith('image/') || f.type === 'application/pdf';
  return /\.(pdf|jpe?g|png|gif|webp|heic|heif|bmp|tiff?)$/i.test(f.name);
}

/** Why a file cannot be evidence, saying what to do; null when it can. */
function refusal(f: File): string | null {
  if (!isImageOrPdf(f)) return t('evi_wrong_type', { name: f.name });
  if (f.size > MAX_EVIDENCE_BYTES) return t('evi_too_big', { name: f.name, mb: MAX_MB });
  if (f.size === 0) return t('evi_empty', { name: f.name });
  return null;
}

export interface EvidencePicker {
  /** The field (label, file input, the picked files, their errors). */
  el: HTMLElement;
  /** Uploads every picked file not uploaded yet, in order, and gives all their ids; on a failure
   * shows what to do at the field and throws (the picked files stay). */
  upload(onProgress: (done: number, total: number) => void): Promise<string[]>;
  /** How many files are picked. */
  count(): number;
}

/** The evidence field of the result form for ticket `ticketId`. */
export function evidencePicker(ticketId: number): EvidencePicker {
  const picked: Picked[] = [];
  const fileInput = input('evidence', { type: 'file', accept: ACCEPT, multiple: true, 'data-testid': 'evidence-input' });
  const list = h('ul', { class: 'evidence-list', 'data-testid': 'evidence-list', 'aria-live': 'polite' });
  const error = h('div', { class: 'field-error', role: 'alert' });
  const hintId = `evi-hint-${ticketId}`;
  fileInput.setAttribute('aria-describedby', hintId);
  fileInput.id = `evi-${ticketId}`;
  const el = h(
    'div',
    { class: 'field evidence-field', 'data-field': 'evidence' },
    h('label', { for: fileInput.id }, t('evi_label')),
    fileInput,
    h('div', { class: 'hint', id: hintId }, t('evi_hint', { mb: MAX_MB })),
    list,
    error,
  );
  const showError = (msg: string) => {
    el.classList.toggle('has-error', !!msg);
    error.textContent = msg;
  };
  const render = () =>
    mount(
      list,
      picked.map((p, i) =>
        h(
          'li',
          { class: `evidence-item ${p.uploaded ? 'uploaded' : ''}`, 'data-file': p.file.name, 'data-uploaded': p.uploaded ? p.uploaded.id : null },
          h('span', { class: 'evidence-name' }, p.file.name),
          h('span', { class: 'muted small' }, sizeText(p.file.size)),
          p.uploaded
            ? h('span', { class: 'tag ok small' }, t('evi_uploaded'))
            : button(t('evi_remove'), {
                class: 'btn small ghost',
                'aria-label': t('evi_remove_named', { name: p.file.name }),
                onclick: () => {
                  picked.splice(i, 1);
                  render();
                },
              }),
        ),
      ),
    );
  fileInput.addEventListener('change', () => {
    const refused: string[] = [];
    for (const f of Array.from(fileInput.files ?? [])) {
      const why = refusal(f);
      if (why) refused.push(why);
      else if (!picked.some((p) => p.file.name === f.name && p.file.size === f.size && p.file.lastModified === f.lastModified)) picked.push({ file: f });
    }
    // the input is cleared so the same file can be chosen again after a fix; the list keeps the files
    fileInput.value = '';
    showError(refused.join(' '));
    render();
  });
  return {
    el,
    count: () => picked.length,
    async upload(onProgress) {
      showError('');
      const total = picked.length;
      let done = picked.filter((p) => p.uploaded).length;
      for (const p of picked) {
        if (p.uploaded) continue;
        onProgress(done, total);
        try {
          p.uploaded = await request<Uploaded>('POST', `/api/v1/tickets/${ticketId}/attachments?name=${encodeURIComponent(p.file.name)}`, p.file, {
            'Content-Type': p.file.type || 'application/octet-stream',
          });
        } catch (e) {
          render();
          const detail = e instanceof ApiError ? (e.status === 413 ? t('evi_too_big', { name: p.file.name, mb: MAX_MB }) : e.text(lang())) : String(e);
          const msg = t('evi_upload_failed', { name: p.file.name, detail });
          showError(msg);
          fileInput.focus();
          throw new EvidenceError(msg);
        }
        done += 1;
        render();
      }
      onProgress(done, total);
      return picked.map((p) => p.uploaded!.id);
    },
  };
}

/** An upload that failed; its message is already shown at the evidence field. */
export class EvidenceError extends Error {}
