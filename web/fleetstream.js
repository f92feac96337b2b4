// The camera list's stream (docs/WEB.md "Cameras"): GET /cameras?follow=1
// read with fetch() (the token in the header) and parsed by sse.js: a
// `cameras` event (the whole list), then `connected` / `gone` with one
// camera's entry. While it flows the page does not poll; when it cannot be
// opened or drops, on.down(why) lets fleet.js poll /cameras again, and the
// stream is tried again after 2 s, doubling up to 60 s while it fails. It
// never asks for a token itself: the poll's 401 opens the dialog, and the
// next try sends the token given there.
import { authHeaders } from './api.js';
import { SseParser } from './sse.js';

const FIRST_WAIT_MS = 2000;
const MAX_WAIT_MS = 60000;
const SILENT_MS = 45000; // the api comments every 15 s

// on: {list(cameras), change(kind, entry), down(why)}
export async function follow(on) {
  let wait = FIRST_WAIT_MS;
  for (;;) {
    const got = await once(on);
    if (got) wait = FIRST_WAIT_MS;
    await new Promise((r) => setTimeout(r, wait));
    if (!got) wait = Math.min(MAX_WAIT_MS, wait * 2);
  }
}

let open = null; // the AbortController of the stream now

// Ends the stream now (the token was forgotten: the next try goes without).
export function restart() {
  open?.abort();
}

// One stream; resolves whether a list came (the stream worked for a while).
async function once(on) {
  const ctl = (open = new AbortController());
  let res;
  try {
    res = await fetch('cameras?follow=1', { headers: authHeaders(), signal: ctl.signal,
      cache: 'no-store', credentials: 'omit' });
  } catch (e) {
    on.down(`the stream could not be opened (${e.message})`);
    return false;
  }
  if (res.status !== 200 || !/^text\/event-stream/i.test(res.headers.get('content-type') || '')) {
    ctl.abort();
    on.down(`the stream was refused (HTTP ${res.status})`);
    return false;
  }
  let silent = 0;
  const seen = { listed: false }, parser = new SseParser((ev) => dispatch(on, ev, seen));
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const watch = () => {
    clearTimeout(silent);
    silent = setTimeout(() => ctl.abort(), SILENT_MS);
  };
  try {
    for (watch(); ;) {
      const { value, done } = await reader.read();
      if (done) break;
      watch();
      parser.feed(value);
    }
  } catch {
    // cut, or silent for too long: polled until the next try
  } finally {
    clearTimeout(silent);
  }
  on.down('the stream ended');
  return seen.listed;
}

// A `cameras` list first, then one camera's change at a time.
function dispatch(on, ev, seen) {
  let data;
  try {
    data = JSON.parse(ev.data);
  } catch {
    return;
  }
  if (ev.type === 'cameras' && Array.isArray(data)) {
    seen.listed = true;
    on.list(data);
  } else if (seen.listed && (ev.type === 'connected' || ev.type === 'gone') && data) {
    on.change(ev.type, data);
  }
}
