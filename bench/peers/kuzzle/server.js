'use strict';
// Stand-in for Kuzzle 2.56's realtime path, for the kuzzlews benchmark. Kuzzle itself needs
// Elasticsearch and Redis, which this machine cannot run; this keeps what a realtime request
// costs in Kuzzle: the same WebSocket protocol (Node.js `ws` instead of uWebSockets.js), the
// real Koncorde 4.7, and the bookkeeping of Kuzzle 2.56's
//   - lib/core/realtime/hotelClerk.ts: a room per normalized filter (Koncorde normalize ->
//     store on the first subscriber, remove after the last one leaves), channels per
//     room named roomId + "-" + hash(users, cluster, scope) (lib/core/realtime/channel.ts),
//     and every subscription of a connection tracked to be dropped on disconnect;
//   - lib/core/realtime/notifier.ts: publish runs koncorde.test on the document (with
//     _kuzzle_info added by lib/api/controllers/realtimeController.ts), builds one
//     DocumentNotification (lib/core/realtime/notification/document.ts) and dispatches it to
//     the matched rooms' channels of scope "all" or "in";
//   - lib/core/network/protocols/httpwsProtocol.ts broadcast(): the notification is
//     serialized once, then for each channel the root `room` is written at its end, and that
//     buffer goes to every socket of the channel.
// It answers server:now, realtime:subscribe, realtime:unsubscribe and realtime:publish with
// Kuzzle's response shape (root `room` = requestId), and {"p":1} with {"p":2}. No
// authentication, no plugins, no cluster, no user notifications (channels default to
// users "none"): those cost Kuzzle more, so this stand-in is a floor for Kuzzle, not a model
// of all of it.
// Usage: node server.js -host 127.0.0.1 -port 7513
const { WebSocketServer } = require('ws');
const { Koncorde } = require('koncorde');

const args = process.argv.slice(2);
function flag(name, def) {
  const i = args.indexOf('-' + name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
}
const host = flag('host', '127.0.0.1');
const port = Number(flag('port', '7513'));
const nodeId = 'knode-standin-' + process.pid;

const koncorde = new Koncorde();

// roomId -> { index, collection, channels: Map<channelName, {scope, users}>, connections: Set<connId> }
const rooms = new Map();
// channelName -> Set<ws> (the protocol's channel membership: joinChannel / leaveChannel)
const channelSockets = new Map();
// connId -> Map<roomId, volatile> (hotelClerk.subscriptions)
const subscriptions = new Map();

// Channel.hash of lib/core/realtime/channel.ts in Kuzzle 2.56: users, cluster, scope.
const USERS_CODE = { all: '1', in: '2', out: '3', none: '3' };
const SCOPE_CODE = { all: '1', in: '2', out: '3' };

class KError extends Error {
  constructor(status, id, message, props = []) {
    super(message);
    this.status = status;
    this.id = id;
    this.props = props;
  }
}

function respond(ws, req, result, error = null) {
  const status = error ? error.status : 200;
  ws.send(JSON.stringify({
    action: req.action, collection: req.collection, controller: req.controller,
    error: error ? { id: error.id, message: error.message, props: error.props, status } : null,
    headers: {}, index: req.index, node: nodeId, requestId: req.requestId, result,
    status, volatile: req.volatile || null, room: req.requestId,
  }));
}

function stringArg(req, name) {
  const v = req[name];
  if (v === undefined || v === null) throw new KError(400, 'api.assert.missing_argument', `Missing argument "${name}".`, [name]);
  if (typeof v !== 'string') throw new KError(400, 'api.assert.invalid_type', `Wrong type for argument "${name}" (expected: string)`, [name, 'string']);
  return v;
}

function body(req) {
  const b = req.body;
  if (b === undefined || b === null) throw new KError(400, 'api.assert.body_required', 'The request must specify a body.');
  if (typeof b !== 'object' || Array.isArray(b)) throw new KError(400, 'api.assert.invalid_type', 'Wrong type for argument "body" (expected: object)', ['body', 'object']);
  return b;
}

function option(req, name, allowed, def) {
  const v = req[name] === undefined || req[name] === null ? def : req[name];
  if (typeof v !== 'string' || !Object.hasOwn(allowed, v)) throw new KError(400, `core.realtime.invalid_${name}`, `Invalid value for the "${name}" parameter.`);
  return v;
}

function joinChannel(channel, ws) {
  let set = channelSockets.get(channel);
  if (!set) { set = new Set(); channelSockets.set(channel, set); }
  set.add(ws);
}

function leaveChannel(channel, ws) {
  const set = channelSockets.get(channel);
  if (!set) return;
  set.delete(ws);
  if (set.size === 0) channelSockets.delete(channel);
}

function subscribe(ws, req) {
  const index = stringArg(req, 'index');
  const collection = stringArg(req, 'collection');
  const filters = body(req);
  const scope = option(req, 'scope', SCOPE_CODE, 'all');
  const users = option(req, 'users', USERS_CODE, 'none');
  let normalized;
  try {
    normalized = koncorde.normalize(filters, index + '/' + collection);
  } catch (e) {
    throw new KError(400, 'api.assert.koncorde_dsl_error', e.message, [e.message]);
  }
  const roomId = normalized.id;
  let room = rooms.get(roomId);
  if (!room) {
    koncorde.store(normalized);
    room = { index, collection, channels: new Map(), connections: new Set() };
    rooms.set(roomId, room);
  }
  const channel = roomId + '-' + USERS_CODE[users] + '1' + SCOPE_CODE[scope];
  let subs = subscriptions.get(ws.connId);
  if (!subs) { subs = new Map(); subscriptions.set(ws.connId, subs); }
  if (!subs.has(roomId)) {
    subs.set(roomId, req.volatile || null);
    room.connections.add(ws.connId);
  }
  joinChannel(channel, ws);
  if (!room.channels.has(channel)) room.channels.set(channel, { scope, users });
  return { channel, roomId };
}

function unsubscribeRoom(ws, roomId) {
  const subs = subscriptions.get(ws.connId);
  if (!subs || !subs.has(roomId)) {
    throw new KError(412, 'core.realtime.not_subscribed', `User "${ws.connId}" has not subscribed to "${roomId}".`, [ws.connId, roomId]);
  }
  subs.delete(roomId);
  if (subs.size === 0) subscriptions.delete(ws.connId);
  const room = rooms.get(roomId);
  if (!room) throw new KError(404, 'core.realtime.room_not_found', `No room found for id "${roomId}".`, [roomId]);
  for (const channel of room.channels.keys()) leaveChannel(channel, ws);
  room.connections.delete(ws.connId);
  if (room.connections.size === 0) {
    rooms.delete(roomId);
    koncorde.remove(roomId);
  }
}

function unsubscribe(ws, req) {
  const b = body(req);
  if (typeof b.roomId !== 'string') {
    throw new KError(400, b.roomId === undefined ? 'api.assert.missing_argument' : 'api.assert.invalid_type', 'Missing or invalid "body.roomId".', ['body.roomId']);
  }
  unsubscribeRoom(ws, b.roomId);
  return { roomId: b.roomId };
}

// broadcast serializes the notification once, then appends each channel's root `room`.
function broadcast(channels, notification) {
  const head = JSON.stringify(notification).slice(0, -1) + ',"room":"';
  for (const channel of channels) {
    const sockets = channelSockets.get(channel);
    if (!sockets) continue;
    const payload = Buffer.from(head + channel + '"}');
    for (const s of sockets) s.send(payload);
  }
}

function publish(ws, req) {
  const content = body(req);
  const index = stringArg(req, 'index');
  const collection = stringArg(req, 'collection');
  content._kuzzle_info = { author: '-1', createdAt: Date.now() };
  const data = req._id ? Object.assign({}, content, { _id: req._id }) : content;
  const matched = koncorde.test(data, index + '/' + collection);
  if (matched.length > 0) {
    const notification = {
      type: 'document', status: 200, action: 'publish', scope: 'in',
      result: { _id: req._id, _source: content }, node: nodeId, event: 'publish',
      requestId: req.requestId, timestamp: Date.now(), volatile: req.volatile || null,
      index, collection, controller: 'realtime', protocol: 'websocket',
    };
    const channels = [];
    for (const roomId of matched) {
      const room = rooms.get(roomId);
      if (!room) continue;
      for (const [name, ch] of room.channels) {
        if (ch.scope === 'all' || ch.scope === 'in') channels.push(name);
      }
    }
    broadcast(channels, notification);
  }
  return { published: true };
}

const handlers = {
  'server:now': () => ({ now: Date.now() }),
  'realtime:subscribe': subscribe,
  'realtime:unsubscribe': unsubscribe,
  'realtime:publish': publish,
};

let nextConnId = 0;
const wss = new WebSocketServer({ host, port, perMessageDeflate: false, maxPayload: 1 << 20 });
wss.on('connection', (ws) => {
  ws.connId = 'standin-' + (++nextConnId);
  ws.on('message', (data) => {
    let req;
    try { req = JSON.parse(data); } catch (e) { req = null; }
    if (req === null || typeof req !== 'object' || Array.isArray(req)) {
      ws.send(JSON.stringify({ status: 400, error: { id: 'api.assert.invalid_argument', message: 'Input request data must be a non-null object', status: 400 } }));
      return;
    }
    if (req.p === 1 && Object.keys(req).length === 1) { ws.send('{"p":2}'); return; }
    const handler = handlers[req.controller + ':' + req.action];
    if (!handler) {
      respond(ws, req, null, new KError(404, 'api.process.action_not_found', 'API action not found.'));
      return;
    }
    try {
      respond(ws, req, handler(ws, req));
    } catch (e) {
      if (!(e instanceof KError)) e = new KError(500, 'core.fatal.unexpected_error', String(e && e.message));
      respond(ws, req, null, e);
    }
  });
  ws.on('close', () => {
    const subs = subscriptions.get(ws.connId);
    if (!subs) return;
    for (const roomId of [...subs.keys()]) {
      try { unsubscribeRoom(ws, roomId); } catch (e) { console.error('close: ' + e.message); }
    }
  });
  ws.on('error', () => {});
});
wss.on('listening', () => console.log('kuzzle stand-in listening on ' + host + ':' + port));
process.on('SIGTERM', () => process.exit(0));
