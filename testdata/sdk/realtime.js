// Realtime scenario with two official SDK instances against the kuzzlews server on
// KUZZLEWS_PORT (issue: realtime engine). Each step prints what it checked; any failed
// assertion exits 1. To have the server drop connections, the script prints "DROP" on
// stdout and waits for a line on stdin.
const assert = require('node:assert/strict');
const readline = require('node:readline');
const { Kuzzle, WebSocket } = require('kuzzle-sdk');

const port = Number(process.env.KUZZLEWS_PORT);
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const step = (what) => console.log('ok -', what);

function sdk() {
  return new Kuzzle(new WebSocket('127.0.0.1', { port, reconnectionDelay: 100, pingInterval: 500 }));
}

// waitFor resolves when cond() holds, polling; rejects after 10 s.
async function waitFor(what, cond) {
  const deadline = Date.now() + 10_000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 20));
  }
}

(async () => {
  const A = sdk();
  const B = sdk();
  await A.connect();
  await B.connect();
  step('two SDK instances connected');

  const docs = [];
  const users = [];
  const filter = { equals: { foo: 'bar' } };
  const roomId = await A.realtime.subscribe('idx', 'col', filter, (n) => docs.push(n), { volatile: { who: 'A' } });
  assert.match(roomId, /^[0-9a-f]{64}$/);
  const roomIdUsers = await A.realtime.subscribe('idx', 'col', filter, (n) => users.push(n), { users: 'all' });
  assert.equal(roomIdUsers, roomId, 'same filter, same room');
  step('A subscribed twice to one room: ' + roomId);

  // B joins the room: A's users:"all" subscription sees "in" with the count.
  const roomIdB = await B.realtime.subscribe('idx', 'col', filter, () => {}, { volatile: { who: 'B' } });
  assert.equal(roomIdB, roomId, 'roomId is the same on every connection');
  await waitFor('user in', () => users.length === 1);
  assert.equal(users[0].type, 'user');
  assert.equal(users[0].user, 'in');
  assert.equal(users[0].result.count, 2);
  assert.equal(users[0].volatile.who, 'B');
  step('user "in" notification with count 2 and the joiner\'s volatile');

  assert.equal(await A.realtime.count(roomId), 2);
  const list = await A.query({ controller: 'realtime', action: 'list' });
  assert.deepEqual(list.result, { idx: { col: { [roomId]: 2 } } });
  step('count and list agree: 2');

  await B.realtime.publish('idx', 'col', { foo: 'bar', n: 1 });
  await B.realtime.publish('idx', 'col', { foo: 'baz', n: 2 });
  await B.realtime.publish('idx', 'col', { foo: 'bar', n: 3 }, { _id: 'doc-3' });
  await A.server.now(); // A's response is queued after any notification for A
  assert.equal(docs.length, 2, 'exactly the matching messages: ' + JSON.stringify(docs));
  assert.equal(docs[0].type, 'document');
  assert.equal(docs[0].scope, 'in');
  assert.equal(docs[0].action, 'publish');
  assert.equal(docs[0].result._source.foo, 'bar');
  assert.equal(docs[0].result._source.n, 1);
  assert.equal(docs[0].result._source._kuzzle_info.author, '-1');
  assert.equal(docs[0].volatile.sdkInstanceId, B.protocol.id, 'the publisher\'s volatile');
  assert.match(docs[0].room, new RegExp('^' + roomId + '-\\d{3}$'));
  assert.equal(docs[1].result._id, 'doc-3');
  assert.equal(docs[1].result._source.n, 3);
  step('A got exactly the two matching messages, with room, volatile, _id and _source');

  await B.realtime.unsubscribe(roomId);
  await waitFor('user out', () => users.length >= 2 && users.some((n) => n.user === 'out'));
  assert.equal(users.find((n) => n.user === 'out').result.count, 1);
  step('user "out" notification with count 1');

  await A.realtime.unsubscribe(roomId);
  assert.equal(await A.realtime.count(roomId), 0);
  const before = docs.length;
  await B.realtime.publish('idx', 'col', { foo: 'bar', n: 4 });
  await A.server.now();
  assert.equal(docs.length, before, 'no delivery after unsubscribe');
  step('unsubscribe stops delivery; count is 0');

  // Reconnection: A subscribes again, the server drops every socket, the SDK reconnects
  // and re-subscribes; the roomId it kept still works.
  const again = await A.realtime.subscribe('idx', 'col', filter, (n) => docs.push(n));
  assert.equal(again, roomId, 'deterministic roomId');
  let reconnectedA = false;
  let reconnectedB = false;
  A.on('reconnected', () => { reconnectedA = true; });
  B.on('reconnected', () => { reconnectedB = true; });
  console.log('DROP');
  await lines.next();
  await waitFor('both SDKs to reconnect', () => reconnectedA && reconnectedB);
  await waitFor('A to re-subscribe', async () => (await A.realtime.count(roomId)) === 1);
  step('server dropped the sockets; A reconnected and re-subscribed to ' + roomId);

  const n = docs.length;
  await B.realtime.publish('idx', 'col', { foo: 'bar', n: 5 });
  await waitFor('the next message', () => docs.length === n + 1);
  assert.equal(docs[n].result._source.n, 5);
  await A.realtime.unsubscribe(roomId); // the old roomId is still valid
  step('A got the next message after reconnecting; unsubscribe with the kept roomId works');

  A.disconnect();
  B.disconnect();
  process.exit(0);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
