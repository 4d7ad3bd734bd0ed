// Signs and verifies tokens with jsonwebtoken the way Kuzzle 2.56 does
// (lib/core/security/tokenRepository.ts): generateToken signs
// jwt.sign({_id: kuid}, secret, {algorithm, expiresIn: Math.floor(ttlMs / 1000)}) and
// prefixes "kauth-"; verifyToken strips the prefixes (removeTokenPrefix), calls
// jwt.verify(token, secret) and requires a truthy _id (decodeToken).
//
// Reads one JSON object on stdin:
//   {"sign":   [{"kuid", "secret", "algorithm", "ttlMs", "iat"}...],
//    "verify": [{"token", "secret", "clockTimestamp"}...]}
// "iat" and "clockTimestamp" (Unix seconds) pin the clock, which Kuzzle leaves to
// Date.now(). Writes {"signed": ["kauth-..."...], "verified": [{"ok", "_id", "exp",
// "error"}...]} on stdout.
'use strict';

const fs = require('fs');
const jwt = require('jsonwebtoken');

const input = JSON.parse(fs.readFileSync(0, 'utf8'));
const out = { signed: [], verified: [] };

for (const s of input.sign || []) {
  const options = { algorithm: s.algorithm };
  if (s.ttlMs !== -1) {
    options.expiresIn = Math.floor(s.ttlMs / 1000);
  }
  const payload = { _id: s.kuid };
  if (s.iat !== undefined) {
    payload.iat = s.iat; // jsonwebtoken uses payload.iat as its timestamp
  }
  out.signed.push('kauth-' + jwt.sign(payload, s.secret, options));
}

for (const v of input.verify || []) {
  const token = v.token.replace('kauth-', '').replace('kapikey-', '');
  try {
    const options = v.clockTimestamp === undefined ? undefined : { clockTimestamp: v.clockTimestamp };
    const decoded = jwt.verify(token, v.secret, options);
    if (!decoded._id) {
      throw new jwt.JsonWebTokenError('Invalid token');
    }
    out.verified.push({ ok: true, _id: decoded._id, exp: decoded.exp });
  } catch (e) {
    out.verified.push({ ok: false, error: e.name });
  }
}

process.stdout.write(JSON.stringify(out));
