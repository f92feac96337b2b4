// Time on the page: parsing the api's RFC 3339, and one time zone for every
// time shown (rows, titles, the timeline, the status line, the "from…"
// input): the browser's own zone or UTC, switched by the operator, always
// named. Listeners run when the zone changes, so each part redraws.
let utc = false;
const listeners = [];

export const isUtc = () => utc;
export function setUtc(v) {
  if (utc === !!v) return;
  utc = !!v;
  for (const fn of listeners) fn();
}
export const onZoneChange = (fn) => listeners.push(fn);

const pad = (n, w = 2) => String(n).padStart(w, '0');

// "+05:30" for the browser's zone at `ms` (offsets change with DST).
function offset(ms) {
  const m = -new Date(ms).getTimezoneOffset(), a = Math.abs(m);
  return `${m < 0 ? '-' : '+'}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

// The zone's name: "UTC", or "Asia/Kolkata (UTC+05:30)". Asking Intl
// costs ~0.3 ms: once.
const ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';
export function zoneName(local = !utc) {
  return local ? `${ZONE} (UTC${offset(Date.now())})` : 'UTC';
}

// RFC 3339 as the api accepts it (t/z in any case, any fraction, offsets,
// second 60) -> ms since the epoch, or NaN. A leap second shows as the last
// millisecond of the minute: JavaScript time has no second 60.
const RFC3339 =
  /^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(\.\d+)?([Zz]|([+-])(\d\d):(\d\d))$/;
export function parseTime(s) {
  // The common shape, 2026-11-28T07:44:29.120Z, at native speed (10,000 in
  // a few ms); Date.parse refuses what the regex would not take.
  if (s.length === 24 && s[4] === '-' && s[10] === 'T' && s[19] === '.' && s[23] === 'Z') {
    const t = Date.parse(s);
    if (t === t) return t; // not NaN; second 60 is NaN there
  }
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

// The fields of `ms` in the page's zone.
function fields(ms) {
  const d = new Date(ms);
  return utc
    ? [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(),
      d.getUTCSeconds(), d.getUTCMilliseconds()]
    : [d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes(),
      d.getSeconds(), d.getMilliseconds()];
}

// Sortable and the same in every locale: 2026-11-28 07:44:29.120, in the
// page's zone ('?' for no time).
export function fmtTime(ms) {
  if (!Number.isFinite(ms)) return '?';
  const [y, mo, d, h, mi, s, ml] = fields(ms);
  return `${pad(y, 4)}-${pad(mo + 1)}-${pad(d)} ${pad(h)}:${pad(mi)}:${pad(s)}.${pad(ml, 3)}`;
}

// The value a datetime-local input shows for `ms` in the page's zone, and
// back: the input has no zone of its own, the page's applies.
export const toInput = (ms) => fmtTime(ms).slice(0, 19).replace(' ', 'T');
export function fromInput(v) {
  if (!v) return NaN;
  return utc ? parseTime(v.length === 16 ? v + ':00Z' : v + 'Z') : new Date(v).getTime();
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
