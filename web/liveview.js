// The "Live" switch and the line that says what the live view is doing
// (docs/WEB.md "Live"): on while a camera's log is on screen, it follows
// that camera (live.js) from the log's cursor and appends what comes
// (logs.js appendLive). A fetch pauses it and it resumes from the new
// log's cursor; an `end` it cannot resume from turns the switch off.
import { $, setText } from './dom.js';
import { Live } from './live.js';
import { appendLive, liveFrom } from './logs.js';

let on = null; // {p, since, cursor}: what is followed now
let lost = ''; // the last gap, said after the state

function say(kind, text) {
  const s = $('live-state');
  s.hidden = false;
  s.className = 'live-' + kind;
  setText(s, text + lost);
  if (kind === 'ended') $('live').checked = false;
}

const live = new Live({
  events: (records, cursor, first) => on && appendLive(on.p, on.since, records, cursor, first),
  state: say,
  gap: (d) => {
    lost = ` Some events were lost: the camera no longer held those between ${d.after ?? '?'} ` +
      `and ${d.next ?? '?'}.`;
  },
});

function quiet() {
  live.stop();
  on = null;
  $('live-state').hidden = true;
}

// A fetch starts: the stream stops (the fetch decides the log on screen).
export function pause() {
  quiet();
}

// A fetch ended (or the switch was turned on): follow what is on screen.
export function resume() {
  const f = liveFrom();
  if (!$('live').checked || !f) return quiet();
  lost = '';
  on = f;
  live.start(f.p, f.since, f.cursor);
}

export function setup() {
  $('live').addEventListener('change', resume);
  $('live-state').hidden = true;
}
