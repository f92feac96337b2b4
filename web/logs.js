// One camera's log: GET /logs into an EventLog (logmodel.js), drawn by a
// LogView (logview.js) with the timeline (timeline.js) and the downloads
// (export.js); the status line, the search, the order toggle and the line
// that shows one picked event in full.
//
// Contract 1.2 (docs/WEB.md "Refresh"): every /logs asks with stale=1; a
// refresh of the log on screen (the same camera and query, a since that
// does not count back from now) asks with after=<the last Camlogs-Cursor>
// and appends what comes; Camlogs-Gap: 1, or a reply without a cursor (a
// camera that does not number its events), replaces the log whole; a reply
// with Camlogs-Cached is marked as the api's copy, with its age.
//
// Live (docs/WEB.md "Live"): liveview.js follows the camera on screen from
// its cursor and hands each batch of streamed events to appendLive(), which
// appends them like a refresh does; a fetch stops the stream first and
// starts it again when it is done (hooks.loading, hooks.loaded).
//
// Timing (docs/WEB.md): each fetch leaves Performance API marks logs:ask,
// logs:bytes (the body is in), logs:parsed (JSON.parse done), logs:drawn
// (the DOM is built), logs:shown (after the next frame was painted) and
// logs:timeline (the timeline is drawn, after that), and the measures
// logs:bytes-to-shown and logs:ask-to-shown. bench/web_page.py reads them.
import { get } from './api.js';
import { $, el, num, plural, setText } from './dom.js';
import { save } from './export.js';
import { EventLog } from './logmodel.js';
import { LogView } from './logview.js';
import { isPreset, sinceOf } from './query.js';
import { ago, fmtTime, onZoneChange, parseTime, zoneName } from './time.js';
import { drawTimeline } from './timeline.js';

const model = new EventLog();
let view = null;
// The log on screen: {params, since, ms, ctl}, and from its last reply
// cursor (Camlogs-Cursor or null), cached (Camlogs-Cached or null), added
// (events a refresh appended, or null when the log was replaced) and gap.
let shown = null;
let running = null; // AbortController of the fetch in flight
let picked = null; // the event shown in full
let asked = null; // {p, since}: the latest fetch's query
let hooks = { loading() {}, loaded() {} };

function status(text, kind) {
  const s = $('status');
  setText(s, text);
  s.className = kind || '';
}

export function clear() {
  hooks.loading();
  asked = null;
  running?.abort();
  running = shown = null;
  model.reset();
  cachedLine();
  $('result').hidden = true;
  status('Choose a camera (click it, or Tab to it and press Enter), or type its id above.');
  setText($('log-h'), 'Log');
}

function mark(name) {
  performance.mark('logs:' + name);
}

// After the next frame is painted the log is on screen; then the timeline,
// which needs every event's time, is drawn in the frame after.
function shownThenTimeline(ctl) {
  mark('drawn');
  requestAnimationFrame(() => setTimeout(() => {
    mark('shown');
    performance.measure('logs:bytes-to-shown', 'logs:bytes', 'logs:shown');
    performance.measure('logs:ask-to-shown', 'logs:ask', 'logs:shown');
    if (running || shown?.ctl !== ctl) return; // a newer fetch
    drawTimeline($('timeline'), model.events);
    mark('timeline');
  }));
}

// Fetches and shows the log for `p`; a newer call cancels an older one.
export async function load(p) {
  hooks.loading();
  running?.abort();
  const ctl = (running = new AbortController());
  performance.clearMarks();
  performance.clearMeasures();
  mark('ask');
  const q = new URLSearchParams({ camera: p.camera }), since = sinceOf(p);
  asked = { p, since };
  const after = cursorFor(p);
  if (after) q.set('after', after);
  if (p.limit) q.set('limit', p.limit);
  if (since) q.set('since', since);
  q.set('timeout', p.timeout);
  q.set('stale', '1');
  setText($('log-h'), `Log of ${p.camera}`);
  status(`Asking camera ${p.camera} for its log (up to ${p.timeout} s)…`, 'busy');
  // The api holds /logs up to `timeout`; past that and some slack it hangs.
  const deadline = AbortSignal.timeout((Number(p.timeout) + 10) * 1000);
  const signal = AbortSignal.any([ctl.signal, deadline]);
  const r = await get('logs?' + q, { camera: p.camera, timeout: p.timeout, mark: 'logs' }, signal);
  if (r.aborted || running !== ctl) return;
  running = null;
  if (r.ok && !Array.isArray(r.data))
    Object.assign(r, { ok: false, error: 'The api sent something other than a list of events.' });
  if (!r.ok) {
    shown = null;
    model.reset();
    $('result').hidden = true;
    cachedLine();
    status(`${r.error}${r.status ? ` (HTTP ${r.status}, ${Math.round(r.ms)} ms)` : ''}`, 'error');
    return hooks.loaded();
  }
  mark('parsed');
  show(p, since, r, after, ctl);
  hooks.loaded();
}

// What a live view follows: the latest fetch's camera and query, from the
// cursor of the log on screen when that fetch put it there (else from the
// start: the stream's first part replaces the log). null before a fetch.
export function liveFrom() {
  if (!asked || running) return null;
  const cursor = shown?.params === asked.p ? shown.cursor : null;
  return { ...asked, cursor };
}

// Events from the live stream, after `cursor` (the last one's id): added
// like a refresh's (a limit keeps the last N); `first`: the stream's first
// part, which replaces what is on screen.
export function appendLive(p, since, records, cursor, first) {
  if (first || shown?.params !== p) {
    shown = { params: p, since, ms: 0, ctl: null, cursor, cached: null, added: null, gap: false };
    $('result').hidden = false;
    $('timeline').replaceChildren();
    pick(null);
    model.reset();
  }
  Object.assign(shown, { cursor, cached: null, live: (shown.live || 0) + records.length });
  cachedLine();
  model.append(records, 'append', p.limit ? Number(p.limit) : Infinity);
}

// The cursor to refresh the log on screen from: only for the same camera
// and query, and not for a since that counts back from now (its window
// moved, so events on screen may have left it: the log is fetched whole).
function cursorFor(p) {
  const a = shown?.params;
  if (!shown?.cursor || a.camera !== p.camera || a.limit !== p.limit || a.since !== p.since)
    return null;
  return isPreset(p.since) ? null : shown.cursor;
}

// A 200 on screen: appended to the log when it continues it (asked with
// after, answered with a cursor and no gap), else the log is replaced.
function show(p, since, r, after, ctl) {
  const h = r.headers, cursor = h.get('Camlogs-Cursor'), gap = h.get('Camlogs-Gap') === '1';
  const more = Boolean(after && cursor && !gap);
  shown = { params: p, since, ms: r.ms, ctl, cursor, cached: h.get('Camlogs-Cached'),
    added: more ? r.data.length : null, gap };
  cachedLine();
  $('result').hidden = false;
  if (more) {
    model.append(r.data, 'append', p.limit ? Number(p.limit) : Infinity);
    return mark('drawn');
  }
  $('timeline').replaceChildren();
  pick(null);
  model.reset(r.data);
  shownThenTimeline(ctl);
}

// A log from the api's cache says so, and how old the copy is (in the
// page's zone; the age is redrawn while it shows).
function cachedLine() {
  const box = $('cached'), at = shown?.cached;
  box.hidden = !at;
  if (!at) return setText(box, '');
  const t = parseTime(at);
  const when = Number.isFinite(t) ? `${ago(t)} (${fmtTime(t)} ${zoneName()})` : at;
  setText(box, `Cached: camera ${shown.params.camera} is away. This is what the api last had ` +
    `from it, as of ${when}.`);
}

// The status line says what is shown: the count, the query, the search.
function describe(how) {
  if (!shown) return;
  const { params: p, since, ms } = shown;
  const what = [since && `since ${fmtTime(parseTime(since))}`, p.limit && `last ${p.limit}`]
    .filter(Boolean).join(', ');
  const cut = view.shown < model.size ? `; the list can draw ${num(view.shown)} of them, ` +
    'the downloads hold all' : '';
  const got = shown.live ? `${num(shown.live)} live` : shown.added !== null ? (shown.added ? `${num(shown.added)} new` : 'nothing new')
    : shown.gap ? 'fetched whole: the camera’s history does not go on from the last fetch' : '';
  const notes = [what, got].filter(Boolean).join('; ');
  const took = ms ? `, fetched in ${Math.round(ms)} ms` : '';
  status(`${plural(model.events.length, 'event')}${notes ? ` (${notes})` : ''}${took}${cut}.`,
    'ok');
  const of = `${num(model.size)} of ${num(model.events.length)} match`;
  setText($('matches'), model.term ? of : '');
  setText($('order'), model.newestFirst ? 'Newest first' : 'Oldest first');
  setText($('ts-h'), `Time, ${zoneName()}`);
  if (how === 'append' || how === 'zone') drawTimeline($('timeline'), model.events);
}

// One event in full below the table (a row shows one line of it): the
// row clicked, or the keyboard's cursor.
function pick(e) {
  picked = e;
  const box = $('detail');
  box.hidden = !e;
  if (!e) return;
  const t = Number.isFinite(e.t) ? `${fmtTime(e.t)} ${zoneName()}` : e.ts;
  box.replaceChildren(el('span', { class: 'when' }, `${t} (as sent: ${e.ts})`),
    el('span', { class: 'text' }, e.d));
}

export function setup(on) {
  hooks = on;
  view = new LogView($('events-view'), $('events'), model, pick);
  model.onChange(describe);
  onZoneChange(() => (describe('zone'), pick(picked), cachedLine()));
  setInterval(() => shown?.cached && cachedLine(), 5000);
  $('search').addEventListener('input', () => model.search($('search').value));
  $('order').addEventListener('click', () => model.setNewestFirst(!model.newestFirst));
  $('dl-json').addEventListener('click', () => save(shown.params.camera, 'json', model.records()));
  $('dl-csv').addEventListener('click', () => save(shown.params.camera, 'csv', model.records()));
  clear();
}
