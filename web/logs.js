// One camera's log: the query form, GET /logs, the table, a per-minute
// timeline (inline SVG built node by node) and the downloads.
import { get } from './api.js';
import { $, el, svg, download, localTime, parseTime, setText, utcTime } from './dom.js';

const PRESETS = { '15m': 15 * 60e3, '1h': 3600e3, '24h': 86400e3 };
const MAX_ROWS = 10000; // drawn; the downloads hold every record
const BIDI = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/;
const BIDI_NOTE = 'contains bidirectional control characters: ' +
  'it may read in another order than it is stored';
const iso = (d) => d.toISOString();
const plural = (n, w) => `${n} ${w}${n === 1 ? '' : 's'}`;
const minute = (m) => localTime(m * 60000).slice(0, 16);
let shown = null; // {params, records} of the table on screen
let running = null; // AbortController of the fetch in flight
let exact = { at: '', since: '' }; // an instant from the address, to the digit

// params: {camera, limit, since, timeout}, strings; since is '', a PRESETS
// key or an instant (RFC 3339, UTC). The same shape goes into the address.
export function readForm() {
  const preset = $('since-preset').value, at = $('since-at').value;
  // The input has whole seconds: an instant that came from the address and
  // was not edited is kept to the digit.
  let since = preset;
  if (preset === 'at') since = !at ? '' : at === exact.at ? exact.since : iso(new Date(at));
  const camera = $('camera').value.trim(), timeout = $('timeout').value || '30';
  return { camera, limit: $('limit').value, since, timeout };
}
const isPreset = (s) => Object.hasOwn(PRESETS, s);

export function fillForm(p) {
  $('camera').value = p.camera || '';
  $('limit').value = p.limit || '';
  $('timeout').value = p.timeout || '30';
  const t = parseTime(p.since || '');
  const preset = isPreset(p.since) ? p.since : Number.isFinite(t) ? 'at' : '';
  $('since-preset').value = preset;
  // datetime-local wants local time without an offset: 2026-11-28T07:44:29
  $('since-at').value = preset === 'at' ? localTime(t).slice(0, 19).replace(' ', 'T') : '';
  exact = { at: $('since-at').value, since: p.since };
}

export function toQuery(p) {
  const q = new URLSearchParams();
  for (const k of ['camera', 'limit', 'since']) if (p[k]) q.set(k, p[k]);
  if (p.timeout && p.timeout !== '30') q.set('timeout', p.timeout);
  return q.toString();
}

export function fromQuery(search) {
  const q = new URLSearchParams(search), g = (k) => q.get(k) || '';
  return { camera: g('camera'), limit: g('limit'), since: g('since'),
    timeout: g('timeout') || '30' };
}

function status(text, kind) {
  const s = $('status');
  setText(s, text);
  s.className = kind || '';
}

export function clear() {
  running?.abort();
  running = shown = null;
  $('result').hidden = true;
  status('Choose a camera (click it, or Tab to it and press Enter), or type its id above.');
  setText($('log-h'), 'Log');
}

// Fetches and shows the log for `p`; a newer call cancels an older one.
export async function load(p) {
  running?.abort();
  const ctl = (running = new AbortController());
  const q = new URLSearchParams({ camera: p.camera });
  if (p.limit) q.set('limit', p.limit);
  const since = isPreset(p.since) ? new Date(Date.now() - PRESETS[p.since]).toISOString() : p.since;
  if (since) q.set('since', since);
  q.set('timeout', p.timeout);
  setText($('log-h'), `Log of ${p.camera}`);
  status(`Asking camera ${p.camera} for its log (up to ${p.timeout} s)…`, 'busy');
  // The api holds /logs up to `timeout`; past that and some slack it hangs.
  const deadline = AbortSignal.timeout((Number(p.timeout) + 10) * 1000);
  const signal = AbortSignal.any([ctl.signal, deadline]);
  const r = await get('logs?' + q, { camera: p.camera, timeout: p.timeout }, signal);
  if (r.aborted || running !== ctl) return;
  running = null;
  if (r.ok && !Array.isArray(r.data))
    Object.assign(r, { ok: false, error: 'The api sent something other than a list of events.' });
  if (!r.ok) {
    shown = null;
    $('result').hidden = true;
    status(`${r.error}${r.status ? ` (HTTP ${r.status}, ${Math.round(r.ms)} ms)` : ''}`, 'error');
    return;
  }
  shown = { params: p, records: r.data };
  const n = r.data.length;
  const what = [since && `since ${utcTime(parseTime(since))}`, p.limit && `last ${p.limit}`]
    .filter(Boolean).join(', ');
  const more = n <= MAX_ROWS ? '' : `; the table shows the newest ${MAX_ROWS}, ` +
    'the downloads hold all';
  status(`${plural(n, 'event')}${what ? ` (${what})` : ''}, ` +
    `fetched in ${Math.round(r.ms)} ms${more}.`, 'ok');
  table(r.data.slice(-MAX_ROWS));
  timeline(r.data);
  $('result').hidden = false;
}

function row(rec) {
  const raw = String(rec.timestamp), t = parseTime(raw), d = String(rec.description);
  const ts = el('td', { class: 'ts', title: `${utcTime(t)}\nas sent: ${raw}` },
    Number.isFinite(t) ? localTime(t) : raw);
  const desc = el('td', { class: 'desc' });
  if (BIDI.test(d))
    desc.append(el('span', { class: 'flag', title: BIDI_NOTE }, 'bidi'));
  desc.append(el('span', { class: 'text' }, d));
  return el('tr', { 'data-ts': raw }, ts, desc);
}

function table(records) {
  $('events').tBodies[0].replaceChildren(...records.map(row));
}

function title(text) {
  const t = svg('title');
  t.textContent = text;
  return t;
}

// Events per minute up to the last one, over at least the 30 minutes before
// it; one bar per minute that has any, at least 1/500 of the width wide.
function timeline(records) {
  const counts = new Map();
  let first = Infinity, last = -Infinity, peak = 0;
  for (const r of records) {
    const t = parseTime(String(r.timestamp));
    if (!Number.isFinite(t)) continue;
    const m = Math.floor(t / 60000), c = (counts.get(m) || 0) + 1;
    counts.set(m, c);
    first = Math.min(first, m);
    last = Math.max(last, m);
    peak = Math.max(peak, c);
  }
  const box = $('timeline');
  if (!counts.size) return box.replaceChildren();
  first = Math.min(first, last - 29);
  const span = last - first + 1, w = Math.max(1, span / 500), from = minute(first);
  const to = minute(last);
  const chart = svg('svg', { viewBox: `0 0 ${span} ${peak}`, preserveAspectRatio: 'none',
    role: 'img', class: 'chart' });
  chart.append(title(`events per minute, ${from} to ${to}, at most ${peak} a minute`));
  for (const [m, c] of counts) {
    const bar = svg('rect', { x: m - first, y: peak - c, width: w, height: c });
    bar.append(title(`${minute(m)}: ${plural(c, 'event')}`));
    chart.append(bar);
  }
  const axis = el('p', { class: 'axis' },
    el('span', {}, from), el('span', {}, `peak ${peak}/min`), el('span', {}, to));
  box.replaceChildren(chart, axis);
}

// RFC 4180 fields. A field a spreadsheet would run as a formula (= + - @
// tab CR first) gets a leading ' (docs/WEB.md); the JSON download is exact.
function field(s) {
  s = String(s);
  if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}
function csv(records) {
  const lines = records.map((r) => `${field(r.timestamp)},${field(r.description)}`);
  return ['timestamp,description', ...lines].join('\r\n') + '\r\n';
}

function save(ext, type, text) {
  const cam = shown.params.camera.replace(/[^A-Za-z0-9._-]/g, '_');
  download(`camlogs-${cam}-${new Date().toISOString().replace(/[:.]/g, '-')}.${ext}`, type, text);
}

// onSubmit(params): the form asks for a fetch.
export function setup(onSubmit) {
  $('query').addEventListener('submit', (e) => {
    e.preventDefault();
    if ($('query').reportValidity()) onSubmit(readForm());
  });
  const preset = $('since-preset'), at = $('since-at');
  at.addEventListener('input', () => (preset.value = at.value ? 'at' : ''));
  preset.addEventListener('change', () => preset.value === 'at' && at.focus());
  $('dl-json').addEventListener('click', () =>
    save('json', 'application/json', JSON.stringify(shown.records, null, 2) + '\n'));
  $('dl-csv').addEventListener('click', () =>
    save('csv', 'text/csv;charset=utf-8', csv(shown.records)));
  clear();
}
