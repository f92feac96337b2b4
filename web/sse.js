// A Server-Sent Events parser (W3C HTML, "Server-sent events", the
// event-stream interpretation), for streams read with fetch(): the page
// does not use EventSource, which cannot send an Authorization header (the
// operator token would have to go into the URL).
//
// feed(text) takes the decoded text in pieces split anywhere (a line, even
// a CR LF pair, may straddle two pieces); end() says the stream closed.
// Each complete event goes to onEvent({type, data, id}) with `id` the last
// event id seen so far (the stream's, as EventSource keeps it); `retry`
// fields set this.retry (ms); comments go to onComment(text).
export class SseParser {
  constructor(onEvent, onComment = () => {}) {
    this.onEvent = onEvent;
    this.onComment = onComment;
    this.lastId = '';
    this.retry = null;
    this.rest = ''; // an unfinished line
    this.skipLf = false; // the last piece ended in CR: a LF first in the next is its pair
    this.first = true; // a BOM at the very start is dropped
    this.reset();
  }

  reset() {
    this.type = '';
    this.data = [];
  }

  feed(text) {
    if (this.first && text.length > 0) {
      this.first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.skipLf && text[0] === '\n') text = text.slice(1);
    this.skipLf = false;
    let s = this.rest + text, at = 0;
    for (;;) {
      const cr = s.indexOf('\r', at), lf = s.indexOf('\n', at);
      const end = cr < 0 ? lf : lf < 0 ? cr : Math.min(cr, lf);
      if (end < 0) break;
      this.line(s.slice(at, end));
      at = end + 1;
      if (s[end] === '\r') {
        if (at === s.length) this.skipLf = true;
        else if (s[at] === '\n') at++;
      }
    }
    this.rest = s.slice(at);
  }

  // The stream closed: an event not ended by its blank line is dropped.
  end() {
    this.rest = '';
    this.reset();
  }

  line(l) {
    if (l === '') return this.dispatch();
    if (l[0] === ':') return this.onComment(l.slice(1).replace(/^ /, ''));
    const c = l.indexOf(':');
    const name = c < 0 ? l : l.slice(0, c);
    let value = c < 0 ? '' : l.slice(c + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (name === 'event') this.type = value;
    else if (name === 'data') this.data.push(value);
    else if (name === 'id') {
      if (!value.includes('\u0000')) this.lastId = value;
    } else if (name === 'retry') {
      if (/^[0-9]+$/.test(value)) this.retry = Number(value);
    }
  }

  dispatch() {
    const { type, data } = this;
    this.reset();
    if (data.length === 0) return; // an id or a retry alone is no event
    this.onEvent({ type: type || 'message', data: data.join('\n'), id: this.lastId });
  }
}
