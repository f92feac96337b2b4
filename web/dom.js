// DOM helpers. Text from cameras (ids, descriptions) is untrusted:
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

// 10000 -> "10,000" in every locale (and without waking Intl up).
export const num = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
export const plural = (n, w) => `${num(n)} ${w}${n === 1 ? '' : 's'}`;

// Sets a node's text only when it changed, so a refresh repaints nothing
// that stayed the same.
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}
export function setTitle(node, text) {
  if (node.title !== text) node.title = text;
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
