// The page: the camera table (GET /cameras every few seconds, updated in
// place), the address (?camera=...), the operator-token dialog, and the log
// panel (logs.js).
import { get, onTokenNeeded, setToken, token } from './api.js';
import { $, ago, el, localTime, parseTime, setText, setTitle, utcTime } from './dom.js';
import * as log from './logs.js';

const REFRESH_MS = 3000;
const rows = new Map(); // camera id -> {tr, id, mark, since, node, cam}
let sort = { key: 'id', dir: 1 }; // dir 1: id A-Z, connected first, newest first
let selected = '';
let refused = false; // a 401 was shown because the token dialog was dismissed

function makeRow(id) {
  const r = {
    tr: el('tr', { tabindex: '0' }),
    id: el('td', { class: 'id' }, id),
    mark: el('td'),
    since: el('td', { class: 'since' }),
    node: el('td', { class: 'node' }),
  };
  r.tr.append(r.id, r.mark, r.since, r.node);
  r.tr.addEventListener('click', () => choose(id));
  r.tr.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' && e.key !== ' ') return;
    e.preventDefault();
    choose(id);
  });
  return r;
}

function update(r, c, now, hasNode) {
  setText(r.mark, c.connected ? '● connected' : '○ offline');
  r.mark.className = c.connected ? 'on' : 'off';
  const since = parseTime(String(c.since)), seen = parseTime(String(c.last_seen));
  setText(r.since, ago(since, now));
  const last = Number.isFinite(seen) ? `\nlast request ${utcTime(seen)}` : '';
  setTitle(r.since, `since ${utcTime(since)}${last}`);
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

function render(list) {
  const now = Date.now(), hasNode = list.some((c) => c && c.node !== undefined), seen = new Set();
  $('cameras').querySelector('th.node').hidden = !hasNode;
  for (const c of list) {
    if (!c || typeof c.camera !== 'string' || seen.has(c.camera)) continue;
    seen.add(c.camera);
    if (!rows.has(c.camera)) rows.set(c.camera, makeRow(c.camera));
    const r = rows.get(c.camera);
    r.cam = c;
    update(r, c, now, hasNode);
  }
  for (const [id, r] of rows) if (!seen.has(id)) (r.tr.remove(), rows.delete(id));
  const f = $('filter').value.trim().toLowerCase();
  let shown = 0;
  for (const r of rows.values()) {
    const hit = !f || [r.cam.camera, r.cam.node ?? ''].some((v) => lower(v).includes(f));
    r.tr.hidden = !hit;
    shown += hit;
  }
  reorder();
  setText($('count'), f ? `(${shown} of ${rows.size})` : `(${rows.size})`);
  $('fleet-empty').hidden = rows.size > 0;
}

let last = []; // the latest /cameras list, for re-rendering on filter/sort
let timer = 0, busy = false;
async function refresh() {
  clearTimeout(timer);
  if (busy) return;
  busy = true;
  const r = await get('cameras', {}, AbortSignal.timeout(10000));
  busy = false;
  if (r.ok && !Array.isArray(r.data))
    Object.assign(r, { ok: false, error: 'The api sent something other than a list of cameras.' });
  if (r.ok) {
    render((last = r.data));
    setText($('updated'), `updated ${localTime(Date.now()).slice(11, 19)}`);
    $('banner').hidden = true;
    $('cameras').classList.remove('stale');
  } else {
    refused = r.status === 401;
    setText($('banner'), `Camera list: ${r.error} Retrying every ${REFRESH_MS / 1000} s; ` +
      'the table is from the last success.');
    $('banner').hidden = false;
    $('cameras').classList.add('stale');
  }
  tokenButton();
  timer = setTimeout(refresh, REFRESH_MS);
}

// Shows a camera's log and makes the address say so: a new camera is a new
// history entry, other changes replace the current one.
function show(p, how = 'push') {
  selected = p.camera;
  render(last);
  document.title = p.camera ? `camlogs: ${p.camera}` : 'camlogs';
  const qs = log.toQuery(p), url = qs ? '?' + qs : location.pathname;
  const now = log.fromQuery(location.search).camera;
  if (how === 'push' && now !== p.camera) history.pushState(null, '', url);
  else if (how !== 'none') history.replaceState(null, '', url);
  if (p.camera) log.load(p);
  else log.clear();
}

function choose(id) {
  log.fillForm({ ...log.readForm(), camera: id });
  show(log.readForm());
}

function fromAddress() {
  log.fillForm(log.fromQuery(location.search));
  show(log.readForm(), 'none');
}

function tokenButton() {
  const b = $('forget');
  b.hidden = !token() && !refused;
  setText(b, token() ? 'Forget token' : 'Enter token');
}

// The dialog resolves with the token typed, or null when dismissed.
function askToken(why) {
  return new Promise((resolve) => {
    const dlg = $('auth'), form = $('auth-form');
    const done = (t) => {
      form.removeEventListener('submit', submit);
      dlg.removeEventListener('close', closed);
      if (dlg.open) dlg.close();
      resolve(t);
      tokenButton();
    };
    const submit = (e) => (e.preventDefault(), done($('token').value.trim() || null));
    const closed = () => done(null);
    form.addEventListener('submit', submit);
    dlg.addEventListener('close', closed);
    setText($('auth-why'), why);
    $('token').value = '';
    dlg.showModal();
    $('token').focus();
  });
}

function setup() {
  onTokenNeeded(askToken);
  $('auth-cancel').addEventListener('click', () => $('auth').close());
  $('forget').addEventListener('click', () => {
    setToken(null); // also: ask again at the next 401
    refused = false;
    tokenButton();
    refresh();
    const p = log.readForm();
    if (p.camera) show(p, 'replace');
  });
  $('filter').addEventListener('input', () => render(last));
  for (const b of document.querySelectorAll('#cameras th button')) {
    b.addEventListener('click', () => {
      sort = { key: b.dataset.sort, dir: sort.key === b.dataset.sort ? -sort.dir : 1 };
      for (const th of document.querySelectorAll('#cameras th')) th.removeAttribute('aria-sort');
      const asc = (sort.key === 'id') === (sort.dir === 1);
      b.parentElement.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
      render(last);
    });
  }
  log.setup((p) => show(p));
  window.addEventListener('popstate', fromAddress);
  fromAddress();
  refresh();
}

setup();
