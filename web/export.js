// The downloads of a fetched log: JSON exactly as /logs returned it, and
// CSV (RFC 4180, CRLF, a timestamp,description header, no BOM) with the
// formula guard. Both hold every record, whatever the search shows.
import { download } from './dom.js';

// A field a spreadsheet would run as a formula (= + - @ tab CR first) gets
// a leading ' (docs/WEB.md); quoted when it holds " , CR or LF, or starts
// or ends with white space.
function field(s) {
  s = String(s);
  if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function csv(records) {
  const lines = records.map((r) => `${field(r.timestamp)},${field(r.description)}`);
  return ['timestamp,description', ...lines].join('\r\n') + '\r\n';
}

// camlogs-<camera>-<UTC time>.<ext>
export function save(camera, ext, records) {
  const cam = camera.replace(/[^A-Za-z0-9._-]/g, '_');
  const name = `camlogs-${cam}-${new Date().toISOString().replace(/[:.]/g, '-')}.${ext}`;
  if (ext === 'csv') download(name, 'text/csv;charset=utf-8', csv(records));
  else download(name, 'application/json', JSON.stringify(records, null, 2) + '\n');
}
