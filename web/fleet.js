// The camera list: GET /cameras?follow=1 (fleetstream.js: the list, then
// each arrival and departure), or GET /cameras every few seconds while the
// stream is not flowing; updated in place (only
// cells whose text changed, rows moved only when the order changed), the
// online/offline counts in the header, the filter (ids, nodes, and the
// words "online" / "offline"), the state select and the sort. It says only
// what it knows: nothing about the fleet before a list has loaded, and
// when the list fails, whether the table is from an earlier success.
import { get } from './api.js';
import { $, el, num, setText, setTitle } from './dom.js';
import { follow, restart } from './fleetstream.js';
import { ago, fmtTime, onZoneChange, parseTime, zoneName } from './time.js';

const REFRESH_MS = 3000;
const STATES = ['online', 'offline'];
const rows = new Map(); // camera id -> {tr, id, mark, since, node, cam}
let sort = { key: 'id', dir: 1 }; // dir 1: id A-Z, online first, newest first
let selected = '';
let onChoose = () => {};
let onResult = () => {};
let last = null; // the latest /cameras list, or null before the first success
let lastAt = 0; // when it came
let timer = 0, busy = false;
let streaming = false; // the stream's list is on screen and it flows: no polling

function makeRow(id) {
  const r = {
    tr: el('tr', { tabindex: '0' }),
    id: el('td', { class: 'id' }, id),
    mark: el('td'),
    since: el('td', { class: 'since' }),
    node: el('td', { class: 'node' }),
  };
  r.tr.append(r.id, r.mark, r.since, r.node);
  r.tr.addEventListener('click', () => onChoose(id));
  r.tr.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' && e.key !== ' ') return;
    e.preventDefault();
    onChoose(id);
  });
  return r;
}

function update(r, c, now, hasNode, zone) {
  setText(r.mark, c.connected ? '● online' : '○ offline');
  r.mark.className = c.connected ? 'on' : 'off';
  const since = parseTime(String(c.since)), seen = parseTime(String(c.last_seen));
  setText(r.since, ago(since, now));
  const lastReq = Number.isFinite(seen) ? `\nlast request ${fmtTime(seen)}` : '';
  setTitle(r.since, `since ${fmtTime(since)}${lastReq}\n(${zone})`);
  setText(r.node, c.node === undefined ? '' : String(c.node));
  r.node.hidden = !hasNode;
  r.tr.classList.toggle('selected', c.camera === selected);
  r.tr.setAttribute('aria-current', c.camera === selected ? 'true' : 'false');
}

const sinceOf = (c) => parseTime(String(c.since));
const lower = (v) => String(v).toLowerCase();

function compare(a, b) {
  const x = a.cam, y = b.cam;
  let d = 0;
  if (sort.key === 'connected') d = Number(!!y.connected) - Number(!!x.connected);
  else if (sort.key === 'since') d = (sinceOf(y) || 0) - (sinceOf(x) || 0);
  else d = x.camera < y.camera ? -1 : x.camera > y.camera ? 1 : 0;
  return d * sort.dir || (x.camera < y.camera ? -1 : 1);
}

// Moves rows only when the order changed, and gives focus back to the row
// that had it (moving a node blurs it).
function reorder() {
  const body = $('cameras').tBodies[0], have = body.children;
  const want = [...rows.values()].sort(compare).map((r) => r.tr);
  if (want.length === have.length && want.every((tr, i) => tr === have[i])) return;
  const focused = document.activeElement;
  body.append(...want);
  if (focused && body.contains(focused) && document.activeElement !== focused) focused.focus();
}

// A row matches the text filter by id or node (substring, any case), or by
// state when the text is exactly "online" or "offline"; and the state select.
function matcher() {
  const f = $('filter').value.trim().toLowerCase(), state = $('state').value;
  return (c) => {
    const word = c.connected ? 'online' : 'offline';
    if (state && state !== word) return false;
    return !f || f === word || [c.camera, c.node ?? ''].some((v) => lower(v).includes(f));
  };
}

function counts(list) {
  const on = list.filter((c) => c.connected).length;
  setText($('n-online'), `${num(on)} online`);
  setText($('n-offline'), `${num(list.length - on)} offline`);
  $('counts').hidden = false;
}

function render() {
  if (!last) return;
  const now = Date.now(), hasNode = last.some((c) => c && c.node !== undefined), seen = new Set();
  const zone = zoneName();
  $('cameras').querySelector('th.node').hidden = !hasNode;
  for (const c of last) {
    if (!c || typeof c.camera !== 'string' || seen.has(c.camera)) continue;
    seen.add(c.camera);
    if (!rows.has(c.camera)) rows.set(c.camera, makeRow(c.camera));
    const r = rows.get(c.camera);
    r.cam = c;
    update(r, c, now, hasNode, zone);
  }
  for (const [id, r] of rows) if (!seen.has(id)) (r.tr.remove(), rows.delete(id));
  const hit = matcher();
  let shown = 0;
  for (const r of rows.values()) {
    const out = !hit(r.cam);
    if (r.tr.hidden !== out) r.tr.hidden = out;
    shown += !out;
  }
  reorder();
  counts([...rows.values()].map((r) => r.cam));
  setText($('count'), shown < rows.size ? `(${shown} of ${rows.size})` : `(${rows.size})`);
  $('fleet-empty').hidden = rows.size > 0;
  $('fleet-none').hidden = rows.size === 0 || shown > 0;
}

// What the page says before and between lists: never "no camera" unless a
// list came and was empty, never "from the last success" unless one came.
function failed(r) {
  const when = last ? `the table is from ${fmtTime(lastAt).slice(11, 19)}`
    : 'no list has loaded yet';
  setText($('banner'), `Camera list: ${r.error} Retrying every ${REFRESH_MS / 1000} s; ${when}.`);
  $('banner').hidden = false;
  $('cameras').classList.add('stale');
  if (!last) setText($('fleet-wait'), r.status === 401
    ? 'The camera list needs an operator token.' : 'The camera list has not loaded.');
}

// A poll now (the token changed): a stream that flows is restarted, so it
// goes on only with the token the tab has now.
export function reload() {
  restart();
  refresh();
}

export async function refresh() {
  clearTimeout(timer);
  if (busy) return;
  busy = true;
  const r = await get('cameras', {}, AbortSignal.timeout(10000));
  busy = false;
  if (streaming) return; // the stream's list is newer
  if (r.ok && !Array.isArray(r.data))
    Object.assign(r, { ok: false, error: 'The api sent something other than a list of cameras.' });
  if (r.ok) accept(r.data);
  else failed(r);
  onResult(r);
  timer = setTimeout(refresh, REFRESH_MS);
}

function accept(list) {
  last = list;
  lastAt = Date.now();
  $('fleet-wait').hidden = true;
  render();
  updated();
  $('banner').hidden = true;
  $('cameras').classList.remove('stale');
}

// The stream: a whole list, then one camera's entry at a time.
const stream = {
  list(list) {
    streaming = true;
    clearTimeout(timer);
    accept(list);
    onResult({ ok: true, status: 200 });
  },
  change(kind, c) {
    if (!last || typeof c?.camera !== 'string') return;
    const i = last.findIndex((x) => x?.camera === c.camera);
    if (i >= 0) last[i] = c;
    else last.push(c);
    accept(last);
  },
  down() {
    if (!streaming) return;
    streaming = false;
    refresh();
  },
};

// While the stream flows the list is current: the relative times and
// "updated" are redrawn every few seconds.
function tick() {
  if (!streaming) return;
  lastAt = Date.now();
  render();
  updated();
}

function updated() {
  if (last) setText($('updated'), `updated ${fmtTime(lastAt).slice(11, 19)}` +
    (streaming ? ' (live)' : ''));
}

// Sets the state filter (the header's counts are buttons for it).
function showState(s) {
  $('state').value = $('state').value === s ? '' : s;
  render();
}

export function select(id) {
  selected = id;
  render();
}

// choose(id): a row was clicked or opened with the keyboard; result(r):
// after each /cameras reply (api.get's result).
export function setup(choose, result) {
  onChoose = choose;
  onResult = result;
  $('filter').addEventListener('input', render);
  $('state').addEventListener('change', render);
  for (const s of STATES) $('n-' + s).addEventListener('click', () => showState(s));
  for (const b of document.querySelectorAll('#cameras th button')) {
    b.addEventListener('click', () => {
      sort = { key: b.dataset.sort, dir: sort.key === b.dataset.sort ? -sort.dir : 1 };
      for (const th of document.querySelectorAll('#cameras th')) th.removeAttribute('aria-sort');
      const asc = (sort.key === 'id') === (sort.dir === 1);
      b.parentElement.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
      render();
    });
  }
  onZoneChange(() => (render(), updated()));
  setInterval(tick, REFRESH_MS);
  follow(stream);
}

// The row of `id`, when it is in the table.
export const rowOf = (id) => rows.get(id)?.tr;
