// Two kuzzlews nodes of one cluster (issue: nodes join over NATS): the official SDK
// connected to node A (KUZZLEWS_PORT) and to node B (KUZZLEWS_PORT_B). Each step prints
// what it checked; any failed assertion exits 1.
const assert = require('node:assert/strict');
const { Kuzzle, WebSocket } = require('kuzzle-sdk');

const step = (what) => console.log('ok -', what);

function sdk(port) {
  return new Kuzzle(new WebSocket('127.0.0.1', { port: Number(port), pingInterval: 500 }));
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
  const A = sdk(process.env.KUZZLEWS_PORT);
  const B = sdk(process.env.KUZZLEWS_PORT_B);
  await A.connect();
  await B.connect();
  step('one SDK on each node');

  const docs = [];
  const users = [];
  const outs = [];
  const filter = { equals: { foo: 'bar' } };
  const roomId = await A.realtime.subscribe('idx', 'col', filter, (n) => (n.type === 'user' ? users : docs).push(n),
    { users: 'all', volatile: { who: 'A' } });
  await A.realtime.subscribe('idx', 'col', { equals: { foo: 'out' } }, (n) => outs.push(n), { scope: 'out' });
  const bDocs = [];
  const roomIdB = await B.realtime.subscribe('idx', 'col', filter, (n) => bDocs.push(n), { volatile: { who: 'B' } });
  assert.equal(roomIdB, roomId, 'the same roomId on every node');
  step('A and B subscribed to one room: ' + roomId);

  await waitFor('user in from B', () => users.length === 1);
  assert.equal(users[0].user, 'in');
  assert.equal(users[0].volatile.who, 'B');
  assert.equal(users[0].node, 'knode-b', 'the node where the user entered');
  assert.equal(users[0].result.count, 1, "the count of B's node, as Kuzzle's cluster sends");
  step('A got B\'s "user in" across nodes');

  assert.equal(await A.realtime.count(roomId), 2);
  assert.equal(await B.realtime.count(roomId), 2);
  const listA = await A.query({ controller: 'realtime', action: 'list' });
  const listB = await B.query({ controller: 'realtime', action: 'list' });
  assert.equal(listA.result.idx.col[roomId], 2);
  assert.deepEqual(listA.result, listB.result, 'the same list on both nodes');
  step('count and list are cluster-wide: 2 on both nodes');

  await B.realtime.publish('idx', 'col', { foo: 'bar', n: 1 }, { volatile: { from: 'B' } });
  await B.realtime.publish('idx', 'col', { foo: 'baz', n: 2 });
  await B.realtime.publish('idx', 'col', { foo: 'out', n: 3 });
  await B.realtime.publish('idx', 'col', { foo: 'bar', n: 4 }, { _id: 'doc-4' });
  await B.realtime.publish('idx', 'col', { foo: 'bar', marker: true });
  await waitFor('the marker on A', () => docs.some((d) => d.result._source.marker));
  assert.equal(docs.length, 3, 'exactly the matching messages, once: ' + JSON.stringify(docs));
  assert.deepEqual(docs.map((d) => d.result._source.n), [1, 4, undefined], 'in publication order');
  assert.equal(docs[0].volatile.from, 'B', "the publisher's volatile");
  assert.equal(docs[0].volatile.sdkInstanceId, B.protocol.id);
  assert.equal(docs[0].node, 'knode-b');
  assert.equal(docs[0].result._source._kuzzle_info.author, '-1');
  assert.equal(docs[1].result._id, 'doc-4');
  assert.equal(outs.length, 0, 'a scope:"out" subscription gets no publication');
  assert.equal(bDocs.length, 3, 'B\'s own subscriber got them once too');
  step('A got exactly what B published and its filter matches, in order, once');

  await A.realtime.publish('idx', 'col', { foo: 'bar', from: 'A' });
  await waitFor('A\'s publication on B', () => bDocs.length === 4);
  assert.equal(bDocs[3].node, 'knode-a');
  await A.server.now();
  assert.equal(docs.length, 4, 'A got its own publication once');
  step('and the other way round');

  // join of a room held only by the other node
  const only = await B.realtime.subscribe('idx', 'solo', {}, () => {});
  const joined = await A.query({ controller: 'realtime', action: 'join', body: { roomId: only } });
  assert.equal(joined.result.roomId, only);
  assert.equal(await B.realtime.count(only), 2);
  step('join of a room that existed only on the other node');

  await B.realtime.unsubscribe(roomIdB);
  await waitFor('user out from B', () => users.length === 2);
  assert.equal(users[1].user, 'out');
  assert.equal(users[1].result.count, 0, 'B has no connection left in the room');
  assert.equal(await A.realtime.count(roomId), 1);
  step('A got B\'s "user out"; count is back to 1');

  A.disconnect();
  B.disconnect();
  process.exit(0);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
