// The official SDK's Http protocol against the kuzzlews server on KUZZLEWS_PORT: it reads
// the routes from GET /_publicApi, then calls server:now, auth:checkToken and
// realtime:publish over plain HTTP. The publish goes to the WebSocket subscriber the Go
// test holds (it checks the notification). Each step prints what it checked; any failed
// assertion exits 1.
const assert = require('node:assert/strict');
const { Kuzzle, Http } = require('kuzzle-sdk');

const port = Number(process.env.KUZZLEWS_PORT);
const step = (what) => console.log('ok -', what);

(async () => {
  const kuzzle = new Kuzzle(new Http('127.0.0.1', { port }));
  const errors = [];
  kuzzle.on('queryError', ({ error }) => errors.push(error));
  await kuzzle.connect();
  assert.equal(kuzzle.protocol.routes.realtime.publish.url, '/:index/:collection/_publish');
  assert.equal(kuzzle.protocol.routes.realtime.publish.verb, 'POST');
  assert.equal(kuzzle.protocol.routes.server.now.url, '/_now');
  step('connected: routes read from server:publicApi');

  const before = Date.now();
  const now = await kuzzle.server.now();
  assert.equal(typeof now, 'number');
  assert.ok(Math.abs(now - before) < 60_000, `server:now = ${now}, client clock ${before}`);
  step('server:now over HTTP');

  const check = await kuzzle.auth.checkToken('');
  assert.equal(check.valid, true);
  step('auth:checkToken over HTTP');

  const info = await kuzzle.server.info();
  assert.equal(info.serverInfo.kuzzle.version, process.env.KUZZLEWS_VERSION);
  step('server:info over HTTP');

  const published = await kuzzle.realtime.publish('shop', 'orders', { total: 180, via: 'sdk-http' },
    { volatile: { who: 'http.js' } });
  assert.equal(published, true);
  step('realtime:publish over HTTP');

  assert.deepEqual(errors, []);

  // Kuzzle has no HTTP route for realtime:count: the SDK says so itself.
  await assert.rejects(kuzzle.realtime.count('some-room'), /No URL found for "realtime:count"/);
  step('realtime:count has no HTTP route, as in Kuzzle');

  kuzzle.disconnect();
  console.log(JSON.stringify({ ok: true, now }));
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
