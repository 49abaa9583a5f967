// A tiny DOM toolkit: `h()` builds elements, a few helpers build the repeated form pieces.
// No virtual DOM: pages rebuild their subtree when their data changes.

export type Child = Node | string | number | null | undefined | false | Child[];
type Handler = (ev: any) => void;
export type Attrs = Record<string, string | number | boolean | Handler | null | undefined>;

/** Creates an element. `on*` keys become listeners, booleans toggle attributes, `class` may be a string. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') {
        el.addEventListener(k.slice(2).toLowerCase(), v as EventListener);
      } else if (k === 'value' && 'value' in el) {
        (el as unknown as HTMLInputElement).value = String(v);
      } else if (k === 'checked' && el instanceof HTMLInputElement) {
        el.checked = Boolean(v);
      } else if (k === 'style') {
        // through the CSSOM: the Content-Security-Policy (style-src 'self') blocks style attributes
        el.style.cssText = String(v);
      } else if (v === true) {
        el.setAttribute(k, '');
      } else {
        el.setAttribute(k, String(v));
      }
    }
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(parent, c);
    else if (c instanceof Node) parent.appendChild(c);
    else parent.appendChild(document.createTextNode(String(c)));
  }
}

/** Replaces all children of `el`. */
export function mount(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

let idCounter = 0;
/** A unique element id, for label/aria wiring. */
export function uid(prefix = 'f'): string {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/**
 * A labelled form field. `control` gets the id; `name` (the API field name) is put on the wrapper as
 * `data-field` so server errors naming that field can be shown next to it.
 */
export function field(
  label: string,
  control: HTMLElement,
  opts: { name?: string; hint?: string; required?: boolean; wide?: boolean; labelFor?: HTMLElement } = {},
): HTMLElement {
  const target = opts.labelFor ?? control;
  if (!target.id) target.id = uid();
  const hintId = opts.hint ? uid('hint') : undefined;
  if (hintId) target.setAttribute('aria-describedby', hintId);
  if (opts.required) target.setAttribute('aria-required', 'true');
  return h(
    'div',
    { class: opts.wide ? 'field wide' : 'field', 'data-field': opts.name ?? null },
    h('label', { for: target.id }, label, opts.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
    control,
    opts.hint ? h('div', { class: 'hint', id: hintId }, opts.hint) : null,
    h('div', { class: 'field-error', role: 'alert' }),
  );
}

export function select(
  name: string,
  options: { value: string; label: string }[],
  opts: { value?: string; placeholder?: string; required?: boolean; onChange?: (v: string) => void } = {},
): HTMLSelectElement {
  const s = h(
    'select',
    { name, required: opts.required ?? false },
    opts.placeholder !== undefined ? h('option', { value: '' }, opts.placeholder) : null,
    options.map((o) => h('option', { value: o.value }, o.label)),
  );
  if (opts.value !== undefined) s.value = opts.value;
  if (opts.onChange) {
    const cb = opts.onChange;
    s.addEventListener('change', () => cb(s.value));
  }
  return s;
}

export function input(name: string, attrs: Attrs = {}): HTMLInputElement {
  return h('input', { name, type: 'text', ...attrs });
}

export function textarea(name: string, attrs: Attrs = {}): HTMLTextAreaElement {
  return h('textarea', { name, rows: 4, ...attrs });
}

/**
 * Saves `blob` as a file named `name` (a link with `download`, clicked). The link and the blob's URL
 * stay a while after the click: a URL revoked at once can lose the file. (A browser running without
 * a UTF-8 locale saves a Chinese name as "download": the browser tests give Chromium one.)
 */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.appendChild(a);
  a.click();
  setTimeout(() => a.remove(), 1_000);
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function button(label: Child, attrs: Attrs = {}): HTMLButtonElement {
  return h('button', { type: 'button', class: 'btn', ...attrs }, label);
}

/** Clears the per-field error messages inside `root`. */
export function clearErrors(root: Element): void {
  root.querySelectorAll('.field.has-error').forEach((f) => f.classList.remove('has-error'));
  root.querySelectorAll('.field-error').forEach((e) => (e.textContent = ''));
  root.querySelectorAll('.form-error').forEach((e) => e.replaceChildren());
}

/**
 * Shows an error next to the field named `field` inside `root` (matching `data-field`, also by the
 * last path segment, e.g. `requester.phone` → `phone`), or at the form level when none matches.
 * Returns true if a field was found.
 */
export function showFieldError(root: Element, fieldName: string | undefined, message: string): boolean {
  if (fieldName) {
    const candidates = [fieldName, fieldName.split('.').pop() ?? fieldName, fieldName.replace(/\[\d+\]/g, '')];
    for (const c of candidates) {
      const f = root.querySelector(`[data-field="${CSS.escape(c)}"]`);
      if (f) {
        f.classList.add('has-error');
        const e = f.querySelector('.field-error');
        if (e) e.textContent = message;
        const ctl = f.querySelector('input,select,textarea') as HTMLElement | null;
        ctl?.focus();
        return true;
      }
    }
  }
  const fe = root.querySelector('.form-error');
  if (fe) fe.replaceChildren(h('div', { class: 'alert error', role: 'alert' }, message));
  return false;
}

/** A short-lived message at the bottom of the screen. */
export function toast(message: string, kind: 'ok' | 'error' = 'ok'): void {
  let host = document.getElementById('toasts');
  if (!host) {
    host = h('div', { id: 'toasts', 'aria-live': 'polite' });
    document.body.appendChild(host);
  }
  const el = h('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
  host.appendChild(el);
  setTimeout(() => el.classList.add('leaving'), 3200);
  setTimeout(() => el.remove(), 3600);
}

/** Random id for Idempotency-Key (crypto.randomUUID needs a secure context; getRandomValues does not). */
export function randomKey(): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
