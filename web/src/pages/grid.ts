// 网格上报 — the grid worker's phone page: what, where (the phone's position, or the street,
// community and address by hand), a photo or three, and who reports. The report is a ticket of
// channel `grid` (POST /api/v1/grid/reports), then each photo is uploaded to it
// (POST /api/v1/grid/reports/{id}/photos).

import { api, ApiError } from '../api';
import { chosen, phone, required, serverError, validate, type Rule } from '../forms';
import { categoryPicker, countedTextarea, placeCascade } from '../components';
import { button, field, h, input, mount, randomKey } from '../dom';
import { lang, t } from '../i18n';
import type { PageCtx } from '../page';
import { navigate } from '../router';
import { loadEnums, session } from '../store';

const MAX_PHOTOS = 3;
const MAX_BYTES = 10 * 1024 * 1024;
const REPORTER_KEY = 'jiesu.grid.reporter';

export async function gridPage({ root }: PageCtx): Promise<void> {
  await loadEnums();
  let idemKey = randomKey();
  const cat = categoryPicker();
  const place = placeCascade();
  const address = input('address', { maxlength: 200, autocomplete: 'street-address' });
  const title = input('title', { maxlength: 200 });
  const { ta: text, counter } = countedTextarea('text', 4000, { rows: 4 });
  const photos = h('input', { type: 'file', name: 'photos', accept: 'image/*', capture: 'environment', multiple: true, 'data-testid': 'grid-photos' }) as HTMLInputElement;
  const previews = h('div', { class: 'grid-previews', 'data-testid': 'grid-previews' });
  // the position: the phone's (geolocation) or typed by hand
  const lat = input('lat', { inputmode: 'decimal', maxlength: 12, 'data-testid': 'grid-lat' });
  const lng = input('lng', { inputmode: 'decimal', maxlength: 12, 'data-testid': 'grid-lng' });
  const posNote = h('p', { class: 'hint', role: 'status', 'data-testid': 'grid-position' });
  const locateBtn = button(t('grid_locate'), { class: 'btn', type: 'button', 'data-testid': 'grid-locate', onclick: () => locate() });
  let saved: { name?: string; phone?: string } = {};
  try {
    saved = JSON.parse(localStorage.getItem(REPORTER_KEY) ?? '{}') as typeof saved;
  } catch {
    saved = {};
  }
  const name = input('requester.name', { autocomplete: 'name', maxlength: 50, value: saved.name ?? session.user?.username ?? '' });
  const phoneInput = input('requester.phone', { type: 'tel', inputmode: 'tel', autocomplete: 'tel', maxlength: 13, value: saved.phone ?? '' });
  const submitBtn = h('button', { type: 'submit', class: 'btn primary block', 'data-testid': 'grid-submit' }, t('grid_submit'));

  photos.addEventListener('change', () => {
    const files = [...(photos.files ?? [])].slice(0, MAX_PHOTOS);
    previews.replaceChildren(
      ...files.map((f) => {
        const img = h('img', { alt: f.name, class: 'grid-thumb' }) as HTMLImageElement;
        img.src = URL.createObjectURL(f);
        return img;
      }),
    );
  });

  function locate() {
    if (!('geolocation' in navigator)) {
      posNote.textContent = t('grid_locate_failed');
      return;
    }
    posNote.textContent = t('grid_locating');
    navigator.geolocation.getCurrentPosition(
      (p) => {
        lat.value = p.coords.latitude.toFixed(6);
        lng.value = p.coords.longitude.toFixed(6);
        posNote.textContent = t('grid_located', { lat: lat.value, lng: lng.value, acc: String(Math.round(p.coords.accuracy)) });
      },
      () => {
        posNote.textContent = t('grid_locate_failed');
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
    );
  }

  const form = h(
    'form',
    { class: 'card public-form grid-form', novalidate: true, 'data-testid': 'grid-form' },
    h('h1', null, t('grid_title')),
    h('p', { class: 'muted' }, t('grid_lead')),
    field(t('grid_photo'), photos, { name: 'photos', hint: t('grid_photo_hint') }),
    previews,
    field(t('category'), cat.el, { name: 'category_code', required: true, labelFor: cat.input }),
    field(t('title'), title, { name: 'title', required: true }),
    field(t('text'), text, { name: 'text', required: true }),
    h(
      'fieldset',
      { class: 'field' },
      h('legend', null, t('grid_position')),
      locateBtn,
      posNote,
      h('div', { class: 'grid2' }, field(t('grid_lat'), lat, { name: 'lat' }), field(t('grid_lng'), lng, { name: 'lng' })),
      place.el,
      field(t('address'), address, { name: 'address' }),
    ),
    h('div', { class: 'grid2' }, field(t('grid_reporter'), name, { name: 'requester.name', required: true }), field(t('requester_phone'), phoneInput, { name: 'requester.phone', required: true })),
    h('div', { class: 'form-error' }),
    submitBtn,
  );
  text.after(counter);

  const rules: Rule[] = [
    chosen('category_code', 'fe_category_label', () => cat.value()),
    chosen('district_code', 'fe_district_label', () => place.value().district_code),
    chosen('street_code', 'fe_street_label', () => place.value().street_code),
    required('title', 'fe_title_label', () => title.value),
    required('text', 'fe_text_label', () => text.value),
    required('requester.name', 'fe_name_label', () => name.value),
    phone('requester.phone', () => phoneInput.value),
  ];

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!validate(form, rules)) return;
    const p = place.value();
    const la = lat.value.trim() ? Number(lat.value) : undefined;
    const ln = lng.value.trim() ? Number(lng.value) : undefined;
    submitBtn.disabled = true;
    try {
      localStorage.setItem(REPORTER_KEY, JSON.stringify({ name: name.value.trim(), phone: phoneInput.value.trim() }));
      const res = await api.gridReport(
        {
          type: 'report',
          category_code: cat.value(),
          title: title.value.trim(),
          text: text.value.trim(),
          district_code: p.district_code,
          street_code: p.street_code,
          community_code: p.community_code || undefined,
          address: address.value.trim() || undefined,
          lat: la,
          lng: ln,
          requester: { name: name.value.trim(), phone: phoneInput.value.trim() },
        },
        idemKey,
      );
      idemKey = randomKey();
      let uploaded = 0;
      const failures: string[] = [];
      for (const f of [...(photos.files ?? [])].slice(0, MAX_PHOTOS)) {
        if (f.size > MAX_BYTES) {
          failures.push(f.name);
          continue;
        }
        try {
          await api.gridPhoto(res.id, f, f.name || 'photo.jpg');
          uploaded += 1;
        } catch (e) {
          failures.push(e instanceof ApiError ? e.text(lang()) : String(e));
        }
      }
      showDone(res.number, uploaded, failures);
    } catch (e) {
      serverError(form, e, rules);
    } finally {
      submitBtn.disabled = false;
    }
  });

  function showDone(number: string, uploaded: number, failures: string[]) {
    mount(
      root,
      h(
        'div',
        { class: 'narrow' },
        h(
          'section',
          { class: 'card done-card', 'data-testid': 'grid-done' },
          h('div', { class: 'done-icon', 'aria-hidden': 'true' }, '✓'),
          h('h1', null, t('grid_done')),
          h('div', { class: 'muted' }, t('your_number')),
          h('p', { class: 'big-number', 'data-testid': 'grid-number' }, number),
          h('p', { 'data-testid': 'grid-photos-done' }, t('grid_done_photos', { n: String(uploaded) })),
          failures.map((f) => h('div', { class: 'alert error' }, t('grid_photo_failed', { msg: f }))),
          h('div', { class: 'actions-row center' }, button(t('grid_another'), { class: 'btn primary', onclick: () => navigate('/grid?again=' + Date.now()) })),
        ),
      ),
    );
  }

  mount(root, h('div', { class: 'narrow' }, form));
}
