// Koncorde side of room/filter's BenchmarkTest/BenchmarkCompile: the same workloads
// (same PRNG, same filters, same documents) measured on the real Koncorde 4.7.
//
//   node room/filter/internal/konbench/bench.js room/filter/internal/corpusgen/oracle [seconds-per-case]
//
// The first argument is a folder holding node_modules/koncorde: the oracle folder of
// corpusgen after `npm ci` there (koncorde@4.7.0, see room/filter/README.md).
//
// For each keyword and N in 1, 1000, 10000 it registers N filters in a fresh engine
// (reporting the registration time per filter) and then calls test() on the already
// parsed document in a loop, reporting ns/op and ops/s. Koncorde tests a JavaScript
// object: unlike the Go figures, no JSON parsing is included in ns_op; parse_ns_op is
// the same loop with JSON.parse of the document's text before each test(), which is
// what Go's Test measures.
"use strict";

const path = require("path");
const oracleDir = process.argv[2];
if (!oracleDir) {
  console.error("usage: node bench.js <folder holding node_modules/koncorde, e.g. room/filter/internal/corpusgen/oracle> [seconds]");
  process.exit(2);
}
const { Koncorde } = require(path.resolve(oracleDir, "node_modules", "koncorde"));
const seconds = Number(process.argv[3] || 1);

function mulberry32(seed) {
  let a = seed >>> 0;
  return function () {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), 1 | t) >>> 0;
    t = ((t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t) >>> 0;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHA = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const str = (r, n) => {
  let s = "";
  for (let i = 0; i < n; i++) s += ALPHA[Math.floor(r() * 62)];
  return s;
};
const intn = (r, lo, hi) => lo + Math.floor(r() * (hi - lo + 1));

const workloads = [
  ["equals", (r) => ({ equals: { str: str(r, 20) } }), (r) => ({ str: str(r, 20) })],
  ["exists", (r) => ({ exists: { field: str(r, 20) } }), (r) => ({ [str(r, 20)]: true })],
  ["geoBoundingBox", (r) => {
    const lon = r() * 360 - 180, lat = r() * 180 - 90;
    return { geoBoundingBox: { point: { top: lat, left: lon, right: lon + 0.5, bottom: lat - 0.5 } } };
  }, () => ({ point: [0, 0] })],
  ["geoDistance", (r) => {
    const lon = r() * 360 - 180, lat = r() * 180 - 90;
    return { geoDistance: { point: [lat, lon], distance: "500m" } };
  }, () => ({ point: [0, 0] })],
  ["geoDistanceRange", (r) => {
    const lon = r() * 360 - 180, lat = r() * 180 - 90;
    return { geoDistanceRange: { point: [lat, lon], from: "500m", to: "1km" } };
  }, () => ({ point: [0, 0] })],
  ["geoPolygon", (r) => {
    const lon = r() * 340 - 170, lat = r() * 160 - 80;
    const points = [];
    for (let i = 0; i < 5; i++) {
      const a = (2 * Math.PI * (i + r())) / 5;
      const rad = 0.5 + r() * 9.5;
      points.push([lat + (rad * Math.sin(a)) / 2, lon + rad * Math.cos(a)]);
    }
    return { geoPolygon: { point: { points } } };
  }, () => ({ point: [0, 0] })],
  ["in", (r) => {
    const vs = [];
    for (let i = 0; i < 5; i++) vs.push(str(r, 20));
    return { in: { str: vs } };
  }, (r) => ({ str: str(r, 20) })],
  ["range", (r) => {
    const b = intn(r, -10000, 10000);
    return { range: { integer: { gte: b, lte: b + 100 } } };
  }, (r) => ({ integer: intn(r, -10000, 10000) })],
  ["regexp", (r) => ({ regexp: { str: "^" + str(r, 3) } }), (r) => ({ str: str(r, 20) })],
  ["notEquals", (r) => ({ not: { equals: { str: str(r, 20) } } }), (r) => ({ str: str(r, 20) })],
];

const rows = [];
for (const [name, filterGen, docGen] of workloads) {
  for (const n of [1, 1000, 10000]) {
    const r = mulberry32(42);
    const filters = [];
    for (let i = 0; i < n; i++) filters.push(filterGen(r));
    const doc = docGen(r);
    const k = new Koncorde({ maxConditions: 100 });
    const t0 = process.hrtime.bigint();
    for (const f of filters) k.register(f, "i");
    const regNs = Number(process.hrtime.bigint() - t0) / n;
    let matches = k.test(doc, "i").length;
    // warm up for a fifth of the budget, then measure batches until it is spent
    const warm = process.hrtime.bigint();
    while (process.hrtime.bigint() - warm < BigInt(Math.round(seconds * 2e8))) {
      for (let i = 0; i < 100; i++) k.test(doc, "i");
    }
    const batch = n >= 1000 && name === "notEquals" ? 10 : 1000;
    let ops = 0;
    const start = process.hrtime.bigint();
    const budget = BigInt(Math.round(seconds * 1e9));
    let elapsed = 0n;
    while (elapsed < budget) {
      for (let i = 0; i < batch; i++) matches = k.test(doc, "i").length;
      ops += batch;
      elapsed = process.hrtime.bigint() - start;
    }
    const nsOp = Number(elapsed) / ops;
    // the same, starting from the document's JSON text as Go's Test does
    const text = JSON.stringify(doc);
    let ops2 = 0;
    const start2 = process.hrtime.bigint();
    let elapsed2 = 0n;
    while (elapsed2 < budget) {
      for (let i = 0; i < batch; i++) matches = k.test(JSON.parse(text), "i").length;
      ops2 += batch;
      elapsed2 = process.hrtime.bigint() - start2;
    }
    const nsOp2 = Number(elapsed2) / ops2;
    rows.push({ keyword: name, filters: n, ns_op: Math.round(nsOp), ops_s: Math.round(1e9 / nsOp), parse_ns_op: Math.round(nsOp2), matches, register_us: Math.round(regNs / 100) / 10 });
    console.log(JSON.stringify(rows[rows.length - 1]));
  }
}
