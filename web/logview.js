// The log on screen: a table that draws only the rows in its scroll box
// (and a few around them), whatever the length of the log. Every row has
// the same height (one line; the full text is in the row's title and in the
// detail line below the table); two SVG spacers, sized by their height
// attribute (the CSP allows no style), stand for the rows above and below.
// It draws from an EventLog (logmodel.js) and redraws when it changes, when
// it scrolls or resizes, and when the page's time zone changes. The box
// takes the focus: the arrow keys, Page Up/Down, Home and End move a
// cursor over the events and show the one under it in full (onPick).
import { el, svg } from './dom.js';
import { fmtTime, onZoneChange } from './time.js';

const OVERSCAN = 10; // rows drawn beyond each edge of the box
const MIN_ROWS = 40; // drawn while the box has no height yet (hidden)
const MAX_PX = 30e6; // Chromium's layout ends near 33.5 million px
const BIDI_NOTE = 'contains bidirectional control characters: ' +
  'it may read in another order than it is stored';

function pad() {
  const s = svg('svg', { width: 1, height: 0, 'aria-hidden': 'true' });
  return { s, tr: el('tr', { class: 'pad' }, el('td', { colspan: '2' }, s)) };
}

export class LogView {
  // box: the scroll box; table: #events inside it; onPick(event) when a row
  // is clicked or the keyboard's cursor moves to it.
  constructor(box, table, model, onPick) {
    Object.assign(this, { box, table, model, onPick, body: table.tBodies[0] });
    this.rowH = 0; // measured from a drawn row
    this.top = pad();
    this.bottom = pad();
    this.frame = 0;
    this.cur = -1; // the keyboard's event, as a position in the view
    model.onChange((how, moved) => {
      if (how !== 'append') {
        box.scrollTop = 0;
        this.cur = -1;
        return this.draw();
      }
      // New events come in on top (newest first) or at the end, the dropped
      // oldest leave the other end: the cursor stays on its event, and a box
      // scrolled away from the top keeps showing what it showed.
      const shift = model.newestFirst ? moved.added : -moved.dropped;
      if (this.cur >= 0) this.cur += shift;
      if (this.cur < 0 || this.cur >= model.size) this.cur = -1;
      const top = box.scrollTop;
      this.draw();
      if (top > 0 && shift) box.scrollTop = Math.max(0, top + shift * (this.rowH || 24));
    });
    box.addEventListener('keydown', (e) => this.key(e));
    box.addEventListener('scroll', () => this.soon());
    // A new size may come with a new font size (the phone layout): measure
    // the rows again.
    new ResizeObserver(() => ((this.rowH = 0), this.soon())).observe(box);
    onZoneChange(() => this.draw());
  }

  soon() {
    if (!this.frame) this.frame = requestAnimationFrame(() => ((this.frame = 0), this.draw()));
  }

  // How many rows the log can show: the spacers must stay inside the
  // browser's largest layout size.
  get shown() {
    return Math.min(this.model.size, Math.floor(MAX_PX / (this.rowH || 24)));
  }

  draw() {
    const n = this.shown, h = this.rowH || 24, box = this.box;
    const head = this.table.tHead.offsetHeight;
    const want = Math.max(MIN_ROWS, Math.ceil(box.clientHeight / h) + 2 * OVERSCAN);
    const top = Math.floor((box.scrollTop - head) / h) - OVERSCAN;
    const first = Math.max(0, Math.min(top, n - want));
    const last = Math.min(n, first + want);
    const rows = [];
    for (let i = first; i < last; i++) rows.push(this.row(this.model.at(i), i));
    this.body.replaceChildren(this.top.tr, ...rows, this.bottom.tr);
    this.table.setAttribute('aria-rowcount', String(n + 1));
    const rowH = rows.length && !this.rowH && rows[0].getBoundingClientRect().height;
    if (rowH) {
      this.rowH = rowH; // once: every row has this height (a fraction of a px too)
      return this.draw();
    }
    this.top.s.setAttribute('height', String(first * h));
    this.bottom.s.setAttribute('height', String((n - last) * h));
  }

  row(e, i) {
    const ts = el('td', { class: 'ts', title: `as sent: ${e.ts}` },
      el('div', {}, Number.isFinite(e.t) ? fmtTime(e.t) : e.ts));
    const text = el('div', { title: e.d });
    if (e.bidi) text.append(el('span', { class: 'flag', title: BIDI_NOTE }, 'bidi'));
    text.append(el('span', { class: 'text' }, e.d));
    const tr = el('tr', { class: i === this.cur ? 'ev cur' : 'ev', 'data-ts': e.ts,
      'aria-rowindex': String(i + 2) }, ts, el('td', { class: 'desc' }, text));
    tr.addEventListener('click', () => this.move(i));
    return tr;
  }

  // Puts the cursor on position i, scrolls it into the box, shows it.
  move(i) {
    const n = this.shown, h = this.rowH || 24, box = this.box;
    if (!n) return;
    this.cur = Math.max(0, Math.min(n - 1, i));
    const head = this.table.tHead.offsetHeight, top = this.cur * h;
    if (top < box.scrollTop) box.scrollTop = top;
    else if (top + h + head > box.scrollTop + box.clientHeight)
      box.scrollTop = top + h + head - box.clientHeight;
    this.draw();
    this.onPick(this.model.at(this.cur));
  }

  key(e) {
    const h = this.rowH || 24, page = Math.max(1, Math.floor(this.box.clientHeight / h) - 1);
    const at = this.cur < 0 ? Math.ceil(this.box.scrollTop / h) - 1 : this.cur;
    const to = { ArrowDown: at + 1, ArrowUp: at - 1, PageDown: at + page, PageUp: at - page,
      Home: 0, End: this.shown - 1 }[e.key];
    if (to === undefined || e.altKey || e.ctrlKey || e.metaKey) return;
    e.preventDefault();
    this.move(to);
  }
}
