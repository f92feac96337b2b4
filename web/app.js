// The page: wires the camera list (fleet.js), the log (logs.js, query.js),
// the address (?camera=...&tz=utc), the time-zone switch and the
// operator-token dialog.
import { onTokenNeeded, setToken, token } from './api.js';
import { $, setText } from './dom.js';
import * as fleet from './fleet.js';
import * as liveview from './liveview.js';
import * as log from './logs.js';
import * as query from './query.js';
import { isUtc, setUtc, zoneName } from './time.js';

let refused = false; // a 401 was shown because the token dialog was dismissed

// On a narrow screen the log is below the list: bring it into view, so a
// click on any row shows its log.
function logInView() {
  const top = $('log').getBoundingClientRect().top;
  if (top < 0 || top > innerHeight / 2) $('log').scrollIntoView({ block: 'start' });
}

// Shows a camera's log and makes the address say so: a new camera is a new
// history entry, other changes replace the current one.
function show(p, how = 'push') {
  fleet.select(p.camera);
  document.title = p.camera ? `camlogs: ${p.camera}` : 'camlogs';
  const qs = query.toQuery(p), url = qs ? '?' + qs : location.pathname;
  const now = query.fromQuery(location.search).camera;
  if (how === 'push' && now !== p.camera) history.pushState(null, '', url);
  else if (how !== 'none') history.replaceState(null, '', url);
  if (p.camera) log.load(p);
  else log.clear();
}

function choose(id) {
  query.fillForm({ ...query.readForm(), camera: id });
  show(query.readForm());
  logInView();
}

function fromAddress() {
  const p = query.fromQuery(location.search);
  setUtc(p.utc);
  zoneSelect();
  query.fillForm(p);
  show(query.readForm(), 'none');
}

// The switch names both zones; the address keeps the choice (tz=utc).
function zoneSelect() {
  const s = $('tz');
  setText(s.options[0], zoneName(true));
  s.value = isUtc() ? 'utc' : 'local';
}

function switchZone() {
  const p = query.readForm(); // read in the old zone
  setUtc($('tz').value === 'utc');
  query.fillForm(p);
  const qs = query.toQuery(p);
  history.replaceState(null, '', qs ? '?' + qs : location.pathname);
}

function tokenButton() {
  const b = $('forget');
  b.hidden = !token() && !refused;
  setText(b, token() ? 'Forget token' : 'Enter token');
}

// The dialog resolves with the token typed, or null when dismissed.
function askToken(why) {
  return new Promise((resolve) => {
    const dlg = $('auth'), form = $('auth-form');
    const done = (t) => {
      form.removeEventListener('submit', submit);
      dlg.removeEventListener('close', closed);
      if (dlg.open) dlg.close();
      resolve(t);
      tokenButton();
    };
    const submit = (e) => (e.preventDefault(), done($('token').value.trim() || null));
    const closed = () => done(null);
    form.addEventListener('submit', submit);
    dlg.addEventListener('close', closed);
    setText($('auth-why'), why);
    setText($('fleet-wait'), 'The camera list needs an operator token.');
    $('token').value = '';
    dlg.showModal();
    $('token').focus();
  });
}

function listed(r) {
  refused = r.status === 401;
  tokenButton();
}

function setup() {
  onTokenNeeded(askToken);
  $('auth-cancel').addEventListener('click', () => $('auth').close());
  $('forget').addEventListener('click', () => {
    setToken(null); // also: ask again at the next 401
    refused = false;
    tokenButton();
    fleet.reload();
    const p = query.readForm();
    if (p.camera) show(p, 'replace');
  });
  $('tz').addEventListener('change', switchZone);
  fleet.setup(choose, listed);
  query.setup((p) => show(p));
  log.setup({ loading: liveview.pause, loaded: liveview.resume });
  liveview.setup();
  window.addEventListener('popstate', fromAddress);
  fromAddress();
  fleet.refresh();
}

setup();
