// The camlogs front door's logic that nginx's configuration language lacks
// (njs 0.7, Debian package libnginx-mod-http-js; loaded by camlogs.conf).

// The camera id the api will see in a query that has a percent escape: the
// first parameter whose decoded name is exactly `camera`, its value decoded
// the way the api's query parser does ('%HH' is a byte, '+' stays '+').
// Only reached for queries with a '%' (camlogs.conf); a query the api will
// refuse (a bad escape) gives whatever key: any process answers the 400.
function key(r) {
    return param(r, 'camera');
}

// "1" for a follow stream (GET /logs?follow=1) whose query has a percent
// escape: the parameter named exactly `follow`, decoded, is 1.
function follow(r) {
    return param(r, 'follow') === '1' ? '1' : '';
}

function param(r, want) {
    const args = r.variables.args || '';
    const parts = args.split('&');
    for (let i = 0; i < parts.length; i++) {
        const eq = parts[i].indexOf('=');
        const name = decode(eq < 0 ? parts[i] : parts[i].slice(0, eq));
        if (name === want)
            return eq < 0 ? '' : decode(parts[i].slice(eq + 1));
    }
    return '';
}

function decode(s) {
    try {
        return decodeURIComponent(s);
    } catch (e) {
        return s;
    }
}

// Of two entries for one camera id (a process that held it while its owner
// was away still lists it, disconnected), keep the one that holds it now:
// connected first, then the latest request (last_seen, else since; both are
// fixed-width UTC stamps, so strings compare as instants).
function newer(a, b) {
    if (a.connected !== b.connected)
        return a.connected ? a : b;
    const ta = a.last_seen || a.since || '', tb = b.last_seen || b.since || '';
    return ta >= tb ? a : b;
}

// GET /cameras: every node's list (the same operator credentials, passed on
// by the subrequests), one entry per camera id, sorted by id like the api's.
// A node that says 401 makes the whole answer 401; a node that cannot be
// reached is named in X-Camlogs-Missing (its cameras, if they are online,
// hold their polls on another node by then and are listed there).
async function cameras(r) {
    const names = r.variables.camlogs_nodes.split(' ').filter(n => n.length > 0);
    const replies = await Promise.all(names.map(
        n => r.subrequest('/_camlogs/node/' + n + '/cameras').catch(e => null)));
    // (No prototype: "__proto__" is a valid camera id.)
    const byId = Object.create(null), missing = [];
    for (let i = 0; i < names.length; i++) {
        const s = replies[i];
        if (s !== null && s.status === 401) {
            r.headersOut['WWW-Authenticate'] = 'Bearer';
            r.return(401, s.responseText);
            return;
        }
        let list = null;
        try {
            list = s !== null && s.status === 200 ? JSON.parse(s.responseText) : null;
        } catch (e) {
            list = null;
        }
        if (!Array.isArray(list)) {
            missing.push(names[i]);
            continue;
        }
        list.forEach(c => {
            const id = c.camera;
            byId[id] = id in byId ? newer(byId[id], c) : c;
        });
    }
    const ids = Object.keys(byId).sort();
    if (missing.length > 0)
        r.headersOut['X-Camlogs-Missing'] = missing.join(' ');
    r.headersOut['Content-Type'] = 'application/json';
    r.return(200, JSON.stringify(ids.map(id => byId[id])));
}

export default {key, follow, cameras};
