// Requests to the api: relative URLs (so the page works at any prefix, over
// TLS or behind a proxy), the operator token, and every failure in words.
const KEY = 'camlogs.operator-token';
let asker = null; // (why) => Promise<token or null>: the page's token dialog
let asking = null; // the dialog open now, shared by every request that got 401
let declined = false; // the operator dismissed the dialog: stop asking

// The token lives in this tab's sessionStorage only: never localStorage, a
// cookie or a URL, so it leaves with the tab and is sent nowhere by itself.
export function token() {
  return sessionStorage.getItem(KEY);
}
export function setToken(t) {
  if (t) sessionStorage.setItem(KEY, t);
  else sessionStorage.removeItem(KEY);
  declined = false;
}
export function onTokenNeeded(fn) {
  asker = fn;
}

async function askToken(why) {
  if (!asking) {
    asking = asker(why).then((t) => {
      asking = null;
      if (t) setToken(t);
      else declined = true;
      return t;
    });
  }
  return asking;
}

// For a stream the caller reads itself (live.js): the request headers with
// the token (never in the URL), and after a 401 the dialog's answer: a
// token to try again with, or null (dismissed, or no dialog).
export function authHeaders(extra = {}) {
  const tok = token();
  return tok ? { ...extra, Authorization: 'Bearer ' + tok } : { ...extra };
}
export async function tokenAfter401(sent) {
  if (declined || !asker) return null;
  return askToken(sent ? 'The api refused that token: try another.'
    : 'This api needs an operator token.');
}

// GET `path` (relative). Resolves {ok, status, data, error, ms, aborted,
// headers} (headers: the reply's Headers, absent when none came; the page is
// same-origin, so fetch() reads the api's own Camlogs-* headers); never
// throws. On 401 it asks for a token and tries again with it.
// ctx: {camera, timeout} for the words, mark: a name for a Performance
// API mark `<mark>:bytes` when the body is in; signal: an AbortSignal (a
// TimeoutError from AbortSignal.timeout is reported as the api not answering).
export async function get(path, ctx = {}, signal = undefined) {
  for (;;) {
    const t0 = performance.now();
    const tok = token();
    const headers = tok ? { Authorization: 'Bearer ' + tok } : {};
    let res, text;
    try {
      res = await fetch(path, { headers, signal, cache: 'no-store', credentials: 'omit' });
      text = await res.text();
      if (ctx.mark) performance.mark(ctx.mark + ':bytes');
    } catch (e) {
      const ms = performance.now() - t0;
      const fail = { ok: false, status: 0, ms, aborted: e.name === 'AbortError' };
      if (e.name === 'TimeoutError')
        fail.error = `The api did not answer within ${Math.round(ms / 1000)} s.`;
      else if (!fail.aborted)
        fail.error = `The api could not be reached (${e.message}): ` +
          'it is down, restarting, or the network between is.';
      return fail;
    }
    const ms = performance.now() - t0;
    let data;
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
    if (res.status === 401 && !declined && asker) {
      const why = tok ? 'The api refused that token: try another.'
        : 'This api needs an operator token.';
      const t = await askToken(why);
      if (t) continue;
    }
    const got = { status: res.status, data, ms, headers: res.headers };
    if (res.status === 200 && data !== undefined) return { ok: true, ...got };
    return { ok: false, ...got, error: explain(res.status, data, ctx) };
  }
}

// A reply from the api itself is JSON with "error"; anything else (an HTML
// page) came from something in front of it, such as a proxy.
export function explain(status, data, ctx = {}) {
  const said = data && typeof data.error === 'string' ? data.error : null;
  const tail = said ? ` The api said: “${said}”.` : '';
  const who = ctx.camera ? `Camera ${ctx.camera}` : 'The camera';
  if (said === null && status >= 500)
    return `HTTP ${status} from something in front of the api (a proxy?): ` +
      'the api may be down or unreachable from it.';
  switch (status) {
    case 200:
      return 'The api sent a reply that is not JSON.';
    case 400:
      return 'The api refused the request as malformed.' + tail;
    case 401:
      return 'The api needs an operator token: use “Enter token”.' + tail;
    case 404:
      return 'The api has no such endpoint: is this a camlogs api?' + tail;
    case 502:
      return `The camera's reply was malformed, or it disconnected.` + tail;
    case 503:
      if (/not connected/i.test(said)) {
        const n = /no poll within ([\d.]+ s)/.exec(said)?.[1] ?? "the api's connect grace";
        return `${who} is not connected (no poll within ${n}).${tail}`;
      }
      return 'The api cannot serve this now.' + tail;
    case 504:
      return `No reply from the camera within ${ctx.timeout ?? '?'} s (the timeout asked).${tail}`;
    default:
      return `The api answered HTTP ${status}.` + tail;
  }
}
