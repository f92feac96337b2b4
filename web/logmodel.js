// The fetched log as data: an array of events that only grows (reset()
// starts a new one, append() adds what a later fetch or a stream brings),
// and a view over it: an order (newest first or the camera's order) and a
// search term. The view is a list of indices, so a search over 10,000
// events copies no event, and an append extends it without a rebuild.
// Listeners run after every change (how: 'reset', 'append', 'search',
// 'order'; for an append also {added, dropped}: positions the view gained
// and lost, so the list keeps its cursor on the same event); the list on
// screen (logview.js) and the timeline redraw from it.
import { parseTime } from './time.js';

const BIDI = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/;

// One record as /logs sent it, kept as it came (the JSON download is
// exactly that), with what the page needs worked out when first asked: the
// list draws a few dozen rows, so most events never need their time parsed
// until the timeline counts them.
class Event {
  constructor(rec) {
    this.rec = rec;
    this.ts = String(rec.timestamp);
    this.d = String(rec.description);
    this.time = undefined;
    this.hasBidi = undefined;
    this.low = null; // for the search
  }

  get t() {
    if (this.time === undefined) this.time = parseTime(this.ts);
    return this.time;
  }

  get bidi() {
    if (this.hasBidi === undefined) this.hasBidi = BIDI.test(this.d);
    return this.hasBidi;
  }
}

export class EventLog {
  constructor() {
    this.events = []; // in the order /logs returned them (oldest first)
    this.newestFirst = true;
    this.term = ''; // lower case; '' shows every event
    this.hits = null; // indices into events that match term, ascending
    this.listeners = [];
  }

  onChange(fn) {
    this.listeners.push(fn);
  }

  changed(how, moved = { added: 0, dropped: 0 }) {
    for (const fn of this.listeners) fn(how, moved);
  }

  reset(records = []) {
    this.events = [];
    this.hits = this.term ? [] : null;
    this.append(records, 'reset');
  }

  // Adds records after the last one (a refresh with after=<cursor>, or a
  // live stream, brings them in the same order), then keeps only the last
  // `keep` events (a refresh of "the last N": the oldest make room).
  append(records, how = 'append', keep = Infinity) {
    const from = this.events.length, size = this.size;
    for (const r of records) this.events.push(new Event(r));
    if (this.hits) for (let i = from; i < this.events.length; i++) this.test(i);
    const added = this.size - size;
    const drop = Math.max(0, this.events.length - keep);
    if (drop) {
      this.events.splice(0, drop);
      if (this.hits) this.hits = this.hits.filter((i) => i >= drop).map((i) => i - drop);
    }
    this.changed(how, { added, dropped: size + added - this.size });
  }

  test(i) {
    const e = this.events[i];
    if (e.low === null) e.low = (e.ts + '\u0000' + e.d).toLowerCase();
    if (e.low.includes(this.term)) this.hits.push(i);
  }

  search(term) {
    term = term.trim().toLowerCase();
    if (term === this.term) return;
    this.term = term;
    this.hits = term ? [] : null;
    if (term) for (let i = 0; i < this.events.length; i++) this.test(i);
    this.changed('search');
  }

  setNewestFirst(v) {
    if (this.newestFirst === !!v) return;
    this.newestFirst = !!v;
    this.changed('order');
  }

  // How many events the view shows, and the i-th of them (0 = top).
  get size() {
    return this.hits ? this.hits.length : this.events.length;
  }

  at(i) {
    const k = this.newestFirst ? this.size - 1 - i : i;
    return this.events[this.hits ? this.hits[k] : k];
  }

  records() {
    return this.events.map((e) => e.rec);
  }
}
