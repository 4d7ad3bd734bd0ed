'use strict';
// Node.js ws peer of the kuzzlews benchmark. It speaks the subset of Kuzzle's WebSocket
// protocol every peer speaks (bench/peers/subset is the Go reference): server:now,
// realtime:subscribe on a whole index/collection, realtime:publish with one document
// notification per subscriber. Every frame sent carries a root `room`.
// Usage: node server.js -host 127.0.0.1 -port 7513
const { WebSocketServer } = require('ws');

const args = process.argv.slice(2);
function flag(name, def) {
  const i = args.indexOf('-' + name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
}
const host = flag('host', '127.0.0.1');
const port = Number(flag('port', '7513'));

// channel name -> Set of sockets
const channels = new Map();

function roomId(index, collection) { return 'bench:' + index + '/' + collection; }

function respond(ws, req, result, status = 200, error = null) {
  ws.send(JSON.stringify({
    action: req.action, controller: req.controller, error, requestId: req.requestId,
    result, status, room: req.requestId,
  }));
}

const wss = new WebSocketServer({ host, port, perMessageDeflate: false, maxPayload: 1 << 20 });
wss.on('connection', (ws) => {
  ws.channels = [];
  ws.on('message', (data) => {
    let req;
    try { req = JSON.parse(data); } catch (e) { req = null; }
    if (req === null || typeof req !== 'object' || Array.isArray(req)) {
      ws.send(JSON.stringify({ status: 400, error: { message: 'Input request data must be a non-null object', status: 400 } }));
      return;
    }
    const key = req.controller + ':' + req.action;
    if (key === 'server:now') {
      respond(ws, req, { now: Date.now() });
    } else if (key === 'realtime:subscribe') {
      const rid = roomId(req.index, req.collection);
      const ch = rid + '-1';
      let set = channels.get(ch);
      if (!set) { set = new Set(); channels.set(ch, set); }
      set.add(ws);
      ws.channels.push(ch);
      respond(ws, req, { roomId: rid, channel: ch });
    } else if (key === 'realtime:publish') {
      const ch = roomId(req.index, req.collection) + '-1';
      const msg = JSON.stringify({
        type: 'document', status: 200, action: 'publish', scope: 'in',
        result: { _source: req.body || {} }, event: 'publish', requestId: req.requestId,
        timestamp: Date.now(), index: req.index, collection: req.collection,
        controller: 'realtime', protocol: 'websocket', room: ch,
      });
      const set = channels.get(ch);
      if (set) for (const s of set) s.send(msg);
      respond(ws, req, { published: true });
    } else {
      respond(ws, req, null, 404, { message: 'API controller or action not found.', status: 404 });
    }
  });
  ws.on('close', () => {
    for (const ch of ws.channels) {
      const set = channels.get(ch);
      if (set) set.delete(ws);
    }
  });
  ws.on('error', () => {});
});
wss.on('listening', () => console.log('nodews listening on ' + host + ':' + port));
process.on('SIGTERM', () => process.exit(0));
