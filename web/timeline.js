// Events over time as inline SVG built node by node: up to the last event's
// minute and over at least the 30 minutes before it. A bar is one minute
// while the span is at most MAX_BARS minutes, else the fewest whole minutes
// that keep MAX_BARS bars or fewer (narrower bars would be under a pixel).
// All bars are one <path> (10,000 elements took most of a second to draw);
// the bar under the pointer is named in the axis line. Times are in the
// page's zone.
import { el, plural, setText, svg } from './dom.js';
import { fmtTime } from './time.js';

const MAX_BARS = 500;
const minute = (m) => fmtTime(m * 60000).slice(0, 16);

// Counts per bar of `per` minutes, bars keyed by their first minute.
function count(events) {
  let first = Infinity, last = -Infinity;
  const mins = new Float64Array(events.length);
  let n = 0;
  for (const e of events) {
    if (!Number.isFinite(e.t)) continue;
    const m = Math.floor(e.t / 60000);
    mins[n++] = m;
    if (m < first) first = m;
    if (m > last) last = m;
  }
  if (!n) return null;
  first = Math.min(first, last - 29);
  const per = Math.ceil((last - first + 1) / MAX_BARS);
  const bars = new Map();
  for (let i = 0; i < n; i++) {
    const b = first + Math.floor((mins[i] - first) / per) * per;
    bars.set(b, (bars.get(b) || 0) + 1);
  }
  let peak = 0;
  for (const c of bars.values()) if (c > peak) peak = c;
  return { bars, first, last, per, peak };
}

function barName(m, per, c) {
  const span = per === 1 ? minute(m) : `${minute(m)} to ${minute(m + per - 1).slice(11)}`;
  return `${span}: ${plural(c, 'event')}`;
}

// Draws the timeline of `events` (EventLog entries, with .t) into `box`.
export function drawTimeline(box, events) {
  const t = count(events);
  if (!t) return box.replaceChildren();
  const { bars, first, last, per, peak } = t;
  const span = last - first + 1, from = minute(first), to = minute(last);
  const unit = per === 1 ? 'minute' : `${per} minutes`;
  const chart = svg('svg', { viewBox: `0 0 ${span} ${peak}`, preserveAspectRatio: 'none',
    role: 'img', class: 'chart' });
  const name = svg('title');
  name.textContent = `events per ${unit}, ${from} to ${to}, at most ${peak} a bar`;
  let d = '';
  for (const [m, c] of bars) d += `M${m - first} ${peak}v${-c}h${per}v${c}z`;
  chart.append(name, svg('path', { d, 'data-per': per }));
  const label = `one bar: ${unit}, peak ${peak}`;
  const mid = el('span', { class: 'readout' }, label);
  chart.addEventListener('pointermove', (e) => {
    const r = chart.getBoundingClientRect();
    const m = first + Math.floor(((e.clientX - r.left) / r.width) * span / per) * per;
    setText(mid, barName(m, per, bars.get(m) || 0));
  });
  chart.addEventListener('pointerleave', () => setText(mid, label));
  box.replaceChildren(chart, el('p', { class: 'axis' }, el('span', {}, from), mid,
    el('span', {}, to)));
}
