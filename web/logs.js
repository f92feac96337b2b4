// One camera's log: GET /logs into an EventLog (logmodel.js), drawn by a
// LogView (logview.js) with the timeline (timeline.js) and the downloads
// (export.js); the status line, the search, the order toggle and the line
// that shows one picked event in full.
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
import { sinceOf } from './query.js';
import { fmtTime, onZoneChange, parseTime, zoneName } from './time.js';
import { drawTimeline } from './timeline.js';

const model = new EventLog();
let view = null;
let shown = null; // {params, since, ms, ctl} of the log on screen
let running = null; // AbortController of the fetch in flight
let picked = null; // the event shown in full

function status(text, kind) {
  const s = $('status');
  setText(s, text);
  s.className = kind || '';
}

export function clear() {
  running?.abort();
  running = shown = null;
  model.reset();
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
  running?.abort();
  const ctl = (running = new AbortController());
  performance.clearMarks();
  performance.clearMeasures();
  mark('ask');
  const q = new URLSearchParams({ camera: p.camera }), since = sinceOf(p);
  if (p.limit) q.set('limit', p.limit);
  if (since) q.set('since', since);
  q.set('timeout', p.timeout);
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
    status(`${r.error}${r.status ? ` (HTTP ${r.status}, ${Math.round(r.ms)} ms)` : ''}`, 'error');
    return;
  }
  shown = { params: p, since, ms: r.ms, ctl };
  $('timeline').replaceChildren();
  pick(null);
  $('result').hidden = false;
  mark('parsed');
  model.reset(r.data);
  shownThenTimeline(ctl);
}

// The status line says what is shown: the count, the query, the search.
function describe(how) {
  if (!shown) return;
  const { params: p, since, ms } = shown;
  const what = [since && `since ${fmtTime(parseTime(since))}`, p.limit && `last ${p.limit}`]
    .filter(Boolean).join(', ');
  const cut = view.shown < model.size ? `; the list can draw ${num(view.shown)} of them, ` +
    'the downloads hold all' : '';
  status(`${plural(model.events.length, 'event')}${what ? ` (${what})` : ''}, ` +
    `fetched in ${Math.round(ms)} ms${cut}.`, 'ok');
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

export function setup() {
  view = new LogView($('events-view'), $('events'), model, pick);
  model.onChange(describe);
  onZoneChange(() => (describe('zone'), pick(picked)));
  $('search').addEventListener('input', () => model.search($('search').value));
  $('order').addEventListener('click', () => model.setNewestFirst(!model.newestFirst));
  $('dl-json').addEventListener('click', () => save(shown.params.camera, 'json', model.records()));
  $('dl-csv').addEventListener('click', () => save(shown.params.camera, 'csv', model.records()));
  clear();
}
