// Connects the official SDK to the kuzzlews server on KUZZLEWS_PORT, calls server:now,
// checks the answer and disconnects. Exit code 0 on success; the reason on stderr otherwise.
const assert = require('node:assert/strict');
const { Kuzzle, WebSocket } = require('kuzzle-sdk');

const port = Number(process.env.KUZZLEWS_PORT);

(async () => {
  const kuzzle = new Kuzzle(new WebSocket('127.0.0.1', { port, reconnectionDelay: 100 }));
  const errors = [];
  kuzzle.on('queryError', ({ error }) => errors.push(error));
  await kuzzle.connect();
  const before = Date.now();
  const now = await kuzzle.server.now();
  assert.equal(typeof now, 'number');
  assert.ok(Math.abs(now - before) < 60_000, `server:now = ${now}, client clock ${before}`);
  // The SDK's own connect-time auth:checkToken must have succeeded.
  assert.deepEqual(errors, []);
  kuzzle.disconnect();
  console.log(JSON.stringify({ ok: true, now }));
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
