// The log query: the form, its params and the address. params: {camera,
// limit, since, timeout}, strings; since is '', a PRESETS key or an instant
// (RFC 3339, UTC). The same shape goes into the address, with tz=utc when
// the page shows UTC.
import { $ } from './dom.js';
import { fromInput, isUtc, onZoneChange, parseTime, toInput, zoneName } from './time.js';

export const PRESETS = { '15m': 15 * 60e3, '1h': 3600e3, '24h': 86400e3 };
export const isPreset = (s) => Object.hasOwn(PRESETS, s);
let exact = { at: '', since: '' }; // an instant from the address, to the digit

export function readForm() {
  const preset = $('since-preset').value, at = $('since-at').value;
  // The input has whole seconds: an instant that came from the address and
  // was not edited is kept to the digit.
  let since = preset;
  if (preset === 'at') {
    const t = fromInput(at);
    since = !at || !Number.isFinite(t) ? '' : at === exact.at ? exact.since
      : new Date(t).toISOString();
  }
  const camera = $('camera').value.trim(), timeout = $('timeout').value || '30';
  return { camera, limit: $('limit').value, since, timeout };
}

export function fillForm(p) {
  $('camera').value = p.camera || '';
  $('limit').value = p.limit || '';
  $('timeout').value = p.timeout || '30';
  const t = parseTime(p.since || '');
  const preset = isPreset(p.since) ? p.since : Number.isFinite(t) ? 'at' : '';
  $('since-preset').value = preset;
  // datetime-local has no zone: it shows the page's.
  $('since-at').value = preset === 'at' ? toInput(t) : '';
  exact = { at: $('since-at').value, since: p.since };
}

export function toQuery(p) {
  const q = new URLSearchParams();
  for (const k of ['camera', 'limit', 'since']) if (p[k]) q.set(k, p[k]);
  if (p.timeout && p.timeout !== '30') q.set('timeout', p.timeout);
  if (isUtc()) q.set('tz', 'utc');
  return q.toString();
}

export function fromQuery(search) {
  const q = new URLSearchParams(search), g = (k) => q.get(k) || '';
  return { camera: g('camera'), limit: g('limit'), since: g('since'),
    timeout: g('timeout') || '30', utc: g('tz').toLowerCase() === 'utc' };
}

// The instant to send as since= now (a preset counts back from now).
export function sinceOf(p) {
  return isPreset(p.since) ? new Date(Date.now() - PRESETS[p.since]).toISOString() : p.since;
}

// The form's "From" names the zone its input is in.
function zoneLabel() {
  $('since-zone').textContent = zoneName();
}

export function setup(onSubmit) {
  $('query').addEventListener('submit', (e) => {
    e.preventDefault();
    if ($('query').reportValidity()) onSubmit(readForm());
  });
  const preset = $('since-preset'), at = $('since-at');
  at.addEventListener('input', () => (preset.value = at.value ? 'at' : ''));
  preset.addEventListener('change', () => preset.value === 'at' && at.focus());
  onZoneChange(zoneLabel);
  zoneLabel();
}
