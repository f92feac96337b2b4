// DOM and time helpers. Text from cameras (ids, descriptions) is untrusted:
// it only ever becomes Text nodes (append of a string, textContent) or an
// attribute value, never markup. The page's CSP enforces Trusted Types with
// no policy, so handing any string to an HTML sink would throw.
export function el(tag, props = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  e.append(...kids);
  return e;
}

export function svg(tag, attrs = {}) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

export const $ = (id) => document.getElementById(id);

// Sets a node's text only when it changed, so a refresh repaints nothing
// that stayed the same.
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}
export function setTitle(node, text) {
  if (node.title !== text) node.title = text;
}

// RFC 3339 as the api accepts it (t/z in any case, any fraction, offsets,
// second 60) -> ms since the epoch, or NaN. A leap second shows as the last
// millisecond of the minute: JavaScript time has no second 60.
const RFC3339 =
  /^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(\.\d+)?([Zz]|([+-])(\d\d):(\d\d))$/;
export function parseTime(s) {
  const m = RFC3339.exec(s);
  if (!m) return NaN;
  const d = new Date(0);
  d.setUTCFullYear(+m[1], +m[2] - 1, +m[3]); // years 0-99 too, unlike Date.UTC
  const leap = m[6] === '60';
  const ms = leap ? 999 : Math.floor(Number('0' + (m[7] || '')) * 1000);
  d.setUTCHours(+m[4], +m[5], leap ? 59 : +m[6], ms);
  let t = d.getTime();
  if (m[9]) t -= (m[9] === '-' ? -1 : 1) * (+m[10] * 60 + +m[11]) * 60000;
  return t;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

// Local time, sortable and the same in every locale: 2026-11-28 07:44:29.120
export function localTime(ms) {
  const d = new Date(ms);
  const day = `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return `${day} ${time}.${pad(d.getMilliseconds(), 3)}`;
}

export function utcTime(ms) {
  if (!Number.isFinite(ms)) return '?';
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC');
}

// "5 s ago", "3 min ago", "2 h ago", "4 d ago" (and "in ..." for a clock ahead).
export function ago(ms, now = Date.now()) {
  if (!Number.isFinite(ms)) return '?';
  const s = Math.round((now - ms) / 1000), a = Math.abs(s);
  const [n, unit] = a < 60 ? [a, 's'] : a < 3600 ? [a / 60, 'min'] : a < 86400 ? [a / 3600, 'h']
    : [a / 86400, 'd'];
  const v = `${Math.floor(n)} ${unit}`;
  return a < 2 ? 'just now' : s > 0 ? `${v} ago` : `in ${v}`;
}

// Saves `text` as a file through a Blob and an object URL: nothing leaves
// the browser, nothing is built from markup.
export function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = el('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}
