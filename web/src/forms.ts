// Form validation shared by the public forms (and available to the staff forms): each rule names
// the field (its `data-field`, as the API names it) and says what to do in the UI language
// ("请填写联系电话", "请选择区"); the messages show next to their fields, above the control, so
// an autocomplete list (which opens below the control) never covers them; open lists are closed
// and focus moves to the first error. A server refusal naming a field lands on the same field.

import { ApiError } from './api';
import { clearErrors, h } from './dom';
import { lang, t, type Key } from './i18n';

export interface Rule {
  /** The field's `data-field` (the API's field name, e.g. `requester.phone`). */
  field: string;
  /** The message when the field is wrong, or null when it is fine. */
  check: () => string | null;
  /** The message when the server refuses the field although `check` passed. */
  refused?: () => string;
}

/** "请填写{label}" when `value()` is blank. */
export function required(field: string, label: Key, value: () => string): Rule {
  return { field, check: () => (value().trim() ? null : t('fe_enter', { label: t(label) })) };
}

/** "请选择{label}" when nothing is chosen (a select, a radio group, a list). */
export function chosen(field: string, label: Key, value: () => string): Rule {
  return { field, check: () => (value() ? null : t('fe_choose', { label: t(label) })) };
}

/** The server's phone rule (jiesu-domain `valid_phone`): an 11-digit mobile, or a landline of
 * 10–12 digits starting with 0 (area code), with at most one "-". */
export function validPhone(v: string): boolean {
  if ((v.match(/-/g)?.length ?? 0) > 1) return false;
  const d = v.replace(/-/g, '');
  if (!/^\d+$/.test(d)) return false;
  return /^1[3-9]\d{9}$/.test(d) || (d.length >= 10 && d.length <= 12 && d[0] === '0');
}

/** A phone number: "请填写联系电话" when empty, the expected shape when wrong. */
export function phone(field: string, value: () => string): Rule {
  return {
    field,
    check: () => {
      const v = value().trim();
      if (!v) return t('fe_enter', { label: t('fe_phone_label') });
      return validPhone(v) ? null : t('fe_phone_shape');
    },
    refused: () => t('fe_phone_shape'),
  };
}

/** Closes every open autocomplete list inside `root` (they must never sit over a message). */
export function closeLists(root: Element): void {
  root.querySelectorAll<HTMLElement>('[role=listbox]').forEach((l) => (l.hidden = true));
  root.querySelectorAll('[role=combobox][aria-expanded=true]').forEach((c) => c.setAttribute('aria-expanded', 'false'));
}

function fieldEl(root: Element, name: string): Element | null {
  for (const c of [name, name.split('.').pop() ?? name, name.replace(/\[\d+\]/g, '')]) {
    const f = root.querySelector(`[data-field="${CSS.escape(c)}"]`);
    if (f) return f;
  }
  return null;
}

/** Marks `name`'s field with `message`; false when the form has no such field. */
export function markField(root: Element, name: string, message: string): boolean {
  const f = fieldEl(root, name);
  if (!f) return false;
  f.classList.add('has-error');
  const e = f.querySelector('.field-error');
  if (e) e.textContent = message;
  const ctl = f.querySelector('input,select,textarea');
  if (ctl) {
    ctl.setAttribute('aria-invalid', 'true');
    if (e) {
      if (!e.id) e.id = `${ctl.id || name.replace(/\W/g, '-')}-error`;
      const by = (ctl.getAttribute('aria-describedby') ?? '').split(' ').filter((x) => x && x !== e.id);
      ctl.setAttribute('aria-describedby', [e.id, ...by].join(' '));
    }
  }
  return true;
}

/** Moves focus to the field's control without opening its autocomplete list. */
function focusField(root: Element, name: string): void {
  const ctl = fieldEl(root, name)?.querySelector<HTMLElement>('input:not([type=hidden]),select,textarea');
  if (!ctl) return;
  ctl.dataset.quietFocus = '1';
  ctl.focus();
  delete ctl.dataset.quietFocus;
  closeLists(root);
  fieldEl(root, name)?.scrollIntoView({ block: 'center' });
}

function resetInvalid(root: Element): void {
  root.querySelectorAll('[aria-invalid=true]').forEach((c) => c.removeAttribute('aria-invalid'));
}

/**
 * Runs `rules` on `form`: clears the old messages, closes the lists, shows every failure next to its
 * field (a summary line when more than one) and focuses the first. True when all pass.
 */
export function validate(form: Element, rules: Rule[]): boolean {
  closeLists(form);
  clearErrors(form);
  resetInvalid(form);
  const failed: Rule[] = [];
  for (const r of rules) {
    const msg = r.check();
    if (msg && markField(form, r.field, msg)) failed.push(r);
  }
  if (!failed.length) return true;
  if (failed.length > 1) {
    const fe = form.querySelector('.form-error');
    fe?.replaceChildren(h('div', { class: 'alert error', 'data-testid': 'form-error-summary' }, t('fe_summary', { n: failed.length })));
  }
  focusField(form, failed[0].field);
  return false;
}

/**
 * Shows a server refusal: next to the field it names (with the form's own message for that field
 * when its rule fails, so both say the same thing), else above the button.
 */
export function serverError(form: Element, e: unknown, rules: Rule[] = []): void {
  closeLists(form);
  const text = e instanceof ApiError ? e.text(lang()) : e instanceof Error ? e.message : String(e);
  const name = e instanceof ApiError ? e.field : undefined;
  if (name) {
    const rule = rules.find((r) => r.field === name || r.field.split('.').pop() === name.split('.').pop());
    // the server's message may start with the field's code ("requester.phone：…"): not for citizens
    const plain = text.replace(new RegExp(`^\\s*(invalid\\s+)?${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*[:：]\\s*`), '');
    const msg = rule?.check() ?? rule?.refused?.() ?? plain;
    if (markField(form, rule?.field ?? name, msg)) {
      focusField(form, rule?.field ?? name);
      return;
    }
  }
  const fe = form.querySelector('.form-error');
  fe?.replaceChildren(h('div', { class: 'alert error', role: 'alert' }, text));
}
