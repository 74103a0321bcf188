// SharedKey signing (batch-api.md section 9), reimplemented independently of the SDK so that the
// tests can send raw requests the SDK would refuse to build (malformed JSON, oversized bodies,
// 101-task collections). signing.test.mjs checks it against the SDK and the documented examples.

import { createHmac } from 'node:crypto';

// Standard headers signed by value, in this order, after the verb. Content-Length is handled
// apart because of its POST/empty rules.
const STANDARD_HEADERS = [
  'content-encoding', 'content-language', 'content-length', 'content-md5', 'content-type', 'date',
  'if-modified-since', 'if-match', 'if-none-match', 'if-unmodified-since', 'range',
];

function lower(headers) {
  const out = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && value !== null) out[name.toLowerCase()] = String(value);
  }
  return out;
}

// Decodes a query component as the server must: '+' is a space, then percent-decoding.
function decodeQueryComponent(s) {
  return decodeURIComponent(s.replace(/\+/g, ' '));
}

// Returns the canonicalized resource for `url` (a URL or string): "/account/raw/path" then one
// "\nname:decoded,values" line per query parameter, names sorted by their lowercase form.
export function canonicalizedResource(account, url) {
  const u = new URL(url);
  let out = `/${account}${u.pathname || '/'}`;
  const params = new Map();
  const query = u.search.startsWith('?') ? u.search.slice(1) : u.search;
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decodeQueryComponent(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : decodeQueryComponent(part.slice(eq + 1));
    if (!params.has(name)) params.set(name, []);
    params.get(name).push(value);
  }
  const names = [...params.keys()].sort((a, b) => {
    const la = a.toLowerCase();
    const lb = b.toLowerCase();
    return la < lb ? -1 : la > lb ? 1 : 0;
  });
  for (const name of names) out += `\n${name}:${params.get(name).join(',')}`;
  return out;
}

// Returns the string to sign for a request. `headers` are the headers that will be sent;
// `bodyLength` is the byte length of the body (undefined when there is none).
export function stringToSign({ account, method, url, headers, bodyLength }) {
  const h = lower(headers);
  const verb = method.toUpperCase();
  let s = `${verb}\n`;
  for (const name of STANDARD_HEADERS) {
    let value = h[name] ?? '';
    if (name === 'content-length' && value === '') {
      if (bodyLength !== undefined && bodyLength > 0) value = String(bodyLength);
      else if (verb === 'POST') value = '0';
    }
    s += `${value}\n`;
  }
  const ocp = Object.keys(h).filter((n) => n.startsWith('ocp-') && h[n].trim() !== '').sort();
  for (const name of ocp) s += `${name}:${h[name].trim()}\n`;
  s += canonicalizedResource(account, url);
  return s;
}

// Returns the Authorization header value for the request described as in stringToSign().
export function authorization({ account, key, ...request }) {
  const toSign = stringToSign({ account, ...request });
  const sig = createHmac('sha256', Buffer.from(key, 'base64')).update(toSign, 'utf8').digest('base64');
  return `SharedKey ${account}:${sig}`;
}
