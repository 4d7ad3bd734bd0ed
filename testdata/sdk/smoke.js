const { Kuzzle, WebSocket } = require('kuzzle-sdk');
const port = Number(process.env.KUZZLEWS_PORT || 7513);
(async () => {
  const k = new Kuzzle(new WebSocket('127.0.0.1', { port }));
  await k.connect();
  const now = await k.server.now();
  console.log('now', now);
  k.disconnect();
})().catch(e => { console.error(e); process.exit(1); });
