// The live view's connection (docs/WEB.md "Live"): GET /logs?follow=1
// read with fetch() (the token stays in the Authorization header; an
// EventSource would need it in the URL), parsed by sse.js, each batch of
// events handed on as it comes. After a drop it reconnects with
// Last-Event-ID = the last id it got, so every event comes exactly once;
// the wait starts at the stream's `retry` (2 s before one came) and doubles
// up to 30 s while attempts fail. It says what it is doing through
// onState(kind, text): 'connecting', 'live', 'away' (the camera's
// `offline`), 'reconnecting', 'ended' (no reconnect: revoked, a camera
// that does not number its events, a refused request: 4xx, 501, 505).
import { authHeaders, explain, tokenAfter401 } from './api.js';
import { SseParser } from './sse.js';

const MAX_WAIT_MS = 30000;
const DEFAULT_RETRY_MS = 2000;
// The api sends a comment at least every 15 s: a stream silent for longer
// than this is dead (a connection lost without a close) and is reopened.
const SILENT_MS = 45000;
// An `end` whose reason says the stream cannot resume (the contract:
// revoked credentials, a camera that does not number its events).
const FINAL_END = /revok|number/i;

const sleep = (ms, signal) => new Promise((resolve) => {
  const t = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
});

export class Live {
  // on: {events(records, lastId, first), state(kind, text), gap(data)}
  constructor(on) {
    this.on = on;
    this.ctl = null;
  }

  // Follows p.camera from `cursor` (the Camlogs-Cursor of the log on
  // screen), or from the start (the stream's first part, shaped by p's
  // limit and since) when there is none.
  start(p, since, cursor) {
    this.stop();
    this.ctl = new AbortController();
    Object.assign(this, { p, since, lastId: cursor || '', retry: null, fails: 0 });
    this.run(this.ctl);
  }

  stop() {
    this.ctl?.abort();
    this.ctl = null;
  }

  state(ctl, kind, text) {
    if (this.ctl === ctl) this.on.state(kind, text);
  }

  async run(ctl) {
    while (!ctl.signal.aborted) {
      const r = await this.once(ctl);
      if (ctl.signal.aborted) return;
      if (r.final) {
        this.ctl = null;
        return this.on.state('ended', r.why);
      }
      if (r.got) this.fails = 0;
      const ms = r.now ? 0
        : Math.min(MAX_WAIT_MS, (this.retry ?? DEFAULT_RETRY_MS) * 2 ** this.fails++);
      const s = Math.round(ms / 100) / 10;
      this.state(ctl, 'reconnecting', `Reconnecting in ${s} s: ${r.why}`);
      await sleep(ms, ctl.signal);
    }
  }

  // One connection. Resolves {final, why, got, now}: final = do not
  // reconnect; got = events or a clean start came; now = retry at once.
  async once(ctl) {
    const q = new URLSearchParams({ camera: this.p.camera, follow: '1' });
    if (!this.lastId && this.p.limit) q.set('limit', this.p.limit);
    if (!this.lastId && this.since) q.set('since', this.since);
    const extra = this.lastId ? { 'Last-Event-ID': this.lastId } : {};
    const headers = authHeaders(extra), sent = 'Authorization' in headers;
    this.state(ctl, 'connecting', `Connecting to the live stream of ${this.p.camera}…`);
    let res;
    try {
      res = await fetch('logs?' + q, { headers, signal: ctl.signal, cache: 'no-store',
        credentials: 'omit' });
    } catch (e) {
      return { why: `the api could not be reached (${e.message}).` };
    }
    if (res.status === 200 && /^text\/event-stream/i.test(res.headers.get('content-type') || ''))
      return this.read(ctl, res);
    let data;
    try {
      data = await res.json();
    } catch {
      data = undefined;
    }
    if (res.status === 401 && (await tokenAfter401(sent))) return { why: 'token given', now: true };
    const why = explain(res.status, data, { camera: this.p.camera });
    if (res.status === 409) return { final: true, why: `Live is not possible: ${why}` };
    // 505: the api serves followers over HTTP/1.1 only (docs/API.md "Follow")
    const final = res.status >= 400 && res.status < 500 || [200, 501, 505].includes(res.status);
    return { final, why: final ? `Live refused: ${why}` : why };
  }

  // Reads the stream until it ends, is cut, or falls silent. got: any
  // byte came (the back-off starts over).
  async read(ctl, res) {
    const out = { why: 'the stream was cut.', got: false };
    let batch = [], silent = 0;
    this.first = !this.lastId;
    const parser = new SseParser((ev) => this.event(ctl, ev, batch, out));
    parser.lastId = this.lastId;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    const watch = () => {
      clearTimeout(silent);
      silent = setTimeout(() => {
        out.why = `nothing came for ${SILENT_MS / 1000} s.`;
        reader.cancel().catch(() => {});
      }, SILENT_MS);
    };
    this.state(ctl, 'live', `Live: following ${this.p.camera}.`);
    watch();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || ctl.signal.aborted) break;
        watch();
        out.got = true;
        parser.feed(value);
        if (parser.retry !== null) this.retry = parser.retry;
        if (batch.length) {
          this.on.events(batch.splice(0), this.lastId, this.first);
          this.first = false;
        }
        if (out.end !== undefined) break;
      }
    } catch (e) {
      out.why = `the stream broke off (${e.message}).`;
    } finally {
      clearTimeout(silent);
      reader.cancel().catch(() => {});
    }
    return out;
  }

  event(ctl, ev, batch, out) {
    if (ctl.signal.aborted) return;
    let data;
    try {
      data = JSON.parse(ev.data);
    } catch {
      data = null;
    }
    if (ev.type === 'message') {
      if (data && typeof data.description === 'string' && typeof data.timestamp === 'string') {
        batch.push(data);
        this.lastId = ev.id;
      }
    } else if (ev.type === 'offline') {
      this.state(ctl, 'away', `Camera ${this.p.camera} is away. The stream stays open; ` +
        'its events come when it is back.');
    } else if (ev.type === 'online') {
      this.state(ctl, 'live', `Live: following ${this.p.camera} (it is back).`);
    } else if (ev.type === 'gap') {
      // The stream goes on after `next`: a reconnect resumes from there.
      if (typeof data?.next === 'string') this.lastId = data.next;
      if (batch.length) this.on.events(batch.splice(0), this.lastId, this.first);
      this.first = false;
      this.on.gap(data || {});
    } else if (ev.type === 'end') {
      const reason = data && typeof data.reason === 'string' ? data.reason : 'no reason given';
      out.end = reason;
      out.final = FINAL_END.test(reason);
      out.why = out.final ? `Live ended: ${reason}.` : `the api ended the stream (${reason}).`;
    }
  }
}
