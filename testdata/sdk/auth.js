// Authentication and rights with the official SDK against a kuzzlews server on
// KUZZLEWS_PORT started with a security file and a secret (TestSDKAuth): anonymous
// subscribe refused; kuzzle.jwt = <token signed with the secret>, checkToken,
// getCurrentUser; a subscribe allowed on one collection and forbidden on another; the
// publisher's kuid as notification author; a token signed with another secret, an
// alg:none token and an expired one refused with the right ids; auth.login('local', ...)
// with a 2-second token: TokenExpired, the subscriptions stop, the socket stays usable;
// HTTP publish with and without a token. Tokens and the password come from the
// environment. Each step prints what it checked; any failed assertion exits 1.
const assert = require('node:assert/strict');
const { Kuzzle, WebSocket, Http } = require('kuzzle-sdk');

const port = Number(process.env.KUZZLEWS_PORT);
const env = (name) => {
  const v = process.env[name];
  assert.ok(v, `${name} is not set`);
  return v;
};
const step = (what) => console.log('ok -', what);
const sdk = () => new Kuzzle(new WebSocket('127.0.0.1', { port, reconnectionDelay: 100 }));

// waitFor resolves when cond() holds, polling; rejects after 10 s.
async function waitFor(what, cond) {
  const deadline = Date.now() + 10_000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// refused checks that promise rejects with the Kuzzle error id and status.
async function refused(promise, id, status) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.id, id, `error ${e.id} (${e.message}), want ${id}`);
    assert.equal(e.status, status);
    return true;
  });
}

(async () => {
  const A = sdk();
  await A.connect();
  await refused(A.realtime.subscribe('shop', 'orders', {}, () => {}), 'security.rights.unauthorized', 401);
  step('anonymous subscribe refused: security.rights.unauthorized (401)');

  A.jwt = env('TOKEN_ALICE');
  const check = await A.auth.checkToken();
  assert.equal(check.valid, true);
  assert.equal(check.kuid, 'alice');
  assert.ok(check.expiresAt > Date.now());
  const me = await A.auth.getCurrentUser();
  assert.equal(me._id, 'alice');
  assert.equal(me.content.name, 'Alice');
  assert.deepEqual(me.profileIds, ['orders']);
  step('kuzzle.jwt = a token signed with the secret: checkToken and getCurrentUser say alice');

  const notes = [];
  const roomId = await A.realtime.subscribe('shop', 'orders', {}, (n) => notes.push(n));
  await refused(A.realtime.subscribe('shop', 'carts', {}, () => {}), 'security.rights.forbidden', 403);
  step('subscribe allowed on shop/orders, forbidden on shop/carts (403)');

  const B = sdk();
  await B.connect();
  B.jwt = env('TOKEN_BOB');
  await B.realtime.publish('shop', 'orders', { n: 1 });
  await waitFor('the notification', () => notes.length === 1);
  assert.equal(notes[0].result._source._kuzzle_info.author, 'bob');
  step('notification _kuzzle_info.author is the publisher\'s kuid');

  for (const [name, id] of [['TOKEN_OTHER_SECRET', 'security.token.invalid'],
    ['TOKEN_NONE', 'security.token.invalid'], ['TOKEN_EXPIRED', 'security.token.expired']]) {
    const C = sdk();
    await C.connect();
    C.jwt = env(name);
    await refused(C.realtime.subscribe('shop', 'orders', {}, () => {}), id, 401);
    const checked = await C.auth.checkToken(env(name));
    assert.equal(checked.valid, false);
    C.disconnect();
  }
  step('tokens of another secret, alg none and expired refused: security.token.invalid, invalid, expired');

  const D = sdk();
  let disconnects = 0;
  let expired = 0;
  D.on('disconnected', () => disconnects++);
  D.on('tokenExpired', () => expired++);
  await D.connect();
  await refused(D.auth.login('local', { username: 'alice', password: 'wrong' }), 'plugin.strategy.missing_user', 401);
  // One login per second per connection: wait for the next second, and start the
  // 2-second token at its beginning (its exp is the issuing second + 2).
  await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
  const jwt = await D.auth.login('local', { username: 'alice', password: env('ALICE_PASSWORD') }, '2s');
  assert.equal(D.jwt, jwt);
  assert.ok(jwt.startsWith('kauth-'));
  assert.equal((await D.auth.getCurrentUser())._id, 'alice');
  step('auth.login(\'local\', ...) with expiresIn 2s; wrong password refused (401)');

  const dNotes = [];
  assert.equal(await D.realtime.subscribe('shop', 'orders', {}, (n) => dNotes.push(n)), roomId);
  assert.equal(await A.realtime.count(roomId), 2);
  await waitFor('TokenExpired', () => expired === 1);
  assert.equal(D.jwt, null);
  await waitFor('the server to drop the subscription', async () => (await A.realtime.count(roomId)) === 1);
  await B.realtime.publish('shop', 'orders', { n: 2 });
  await waitFor('A\'s notification', () => notes.length === 2);
  await D.query({ controller: 'server', action: 'publicApi' }); // after any notification for D
  assert.equal(dNotes.length, 0);
  assert.equal(disconnects, 0);
  assert.equal((await D.auth.checkToken()).kuid, '-1');
  step('2-second token: TokenExpired, subscription dropped server-side, socket still usable');

  const H = new Kuzzle(new Http('127.0.0.1', { port }));
  await H.connect();
  await refused(H.realtime.publish('shop', 'orders', { n: 3 }), 'security.rights.unauthorized', 401);
  H.jwt = env('TOKEN_BOB');
  assert.equal(await H.realtime.publish('shop', 'orders', { n: 4, via: 'http' }), true);
  await waitFor('the HTTP publication', () => notes.length === 3);
  assert.equal(notes[2].result._source.via, 'http');
  assert.equal(notes[2].result._source._kuzzle_info.author, 'bob');
  step('HTTP publish without a token: 401; with bob\'s: delivered, author bob');

  for (const k of [A, B, D, H]) k.disconnect();
  console.log(JSON.stringify({ ok: true }));
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
