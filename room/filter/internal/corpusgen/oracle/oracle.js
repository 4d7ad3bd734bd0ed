#!/usr/bin/env node
// Koncorde oracle of room/filter/internal/corpusgen: it runs the real Koncorde
// (koncorde@4.7.0, pinned by package-lock.json) on the cases corpusgen generates and
// prints Koncorde's verdicts, which corpusgen stores in room/filter/testdata/corpus.jsonl.
//
//   node oracle.js [--max-conditions N] < cases.jsonl > verdicts.jsonl
//
// Every non-blank input line is one JSON object and gets exactly one output line, in
// input order. Each line runs on a Koncorde instance of its own, so lines are
// independent. The engine options are Koncorde's defaults (RE2 regexps, as Kuzzle
// without realtime.pcreSupport) except the HMAC seed, 32 zero bytes so that filter ids
// are the same on every run, and maxConditions (--max-conditions, default 50 as in
// Koncorde's lib/index.ts, which also turns 0 into 50; corpusgen passes Kuzzle's 100).
//
// Input lines and their answers:
//
//   {"filters": F, "docs": [d, ...]}  ->  {"id": ID, "results": [R, ...]}
//   {"filters": F}                    ->  {"id": ID, "valid": true}
//   {"multi": [F, ...], "docs": [d, ...]}
//                                     ->  {"ids": [ID|null, ...], "errors": [null|E, ...],
//                                          "results": [[bool per filter]|E per document]}
//
// F is a Koncorde filter, d a document, ID Koncorde's filter id (the Kuzzle roomId).
// The single form registers F (normalize, then store) and tests every document: R is
// true when test() returns ID, or E when test() throws on that document. When F cannot
// be registered the whole answer is E. The multi form registers every filter into one
// engine, in order, as Kuzzle does for the subscriptions of one collection, then tests
// every document once.
//
// E describes a thrown error:
//
//   {"error": message, "errorName": "KoncordeParseError"|"Error"|"TypeError",
//    "keyword": ..., "path": ...,            (KoncordeParseError only)
//    "stage": "normalize"|"store"|"test"}
//
// A line that is not a JSON object, or has neither "filters" nor "multi", is answered
// {"error": message, "stage": "input"}.
'use strict';

const readline = require('node:readline');
const { Koncorde } = require('koncorde');

const SEED = Buffer.alloc(32);

function parseFlags(argv) {
  const flags = { maxConditions: 50 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--max-conditions' && i + 1 < argv.length) {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 0) {
        throw new Error(`--max-conditions: want a non-negative integer, got ${argv[i]}`);
      }
      flags.maxConditions = n;
    } else {
      throw new Error(`unknown argument ${argv[i]}; usage: node oracle.js [--max-conditions N]`);
    }
  }
  return flags;
}

// describe turns a thrown value into E. KoncordeParseError does not set err.name, so
// the constructor's name tells it apart from a plain Error.
function describe(err, stage) {
  if (!(err instanceof Error)) {
    return { error: String(err), stage };
  }
  const out = {
    error: err.message,
    errorName: err.name !== 'Error' ? err.name : err.constructor.name,
  };
  if (err.keyword !== undefined) {
    out.keyword = err.keyword;
  }
  if (err.path !== undefined) {
    out.path = err.path;
  }
  out.stage = stage;
  return out;
}

// register normalizes and stores filter; it returns the filter id, or E.
function register(koncorde, filter) {
  let normalized;
  try {
    normalized = koncorde.normalize(filter);
  } catch (err) {
    return { failed: describe(err, 'normalize') };
  }
  try {
    koncorde.store(normalized);
  } catch (err) {
    return { failed: describe(err, 'store') };
  }
  return { id: normalized.id };
}

// matches runs test() on doc: it returns the set of matching ids, or E.
function matches(koncorde, doc) {
  try {
    return { ids: new Set(koncorde.test(doc)) };
  } catch (err) {
    return { failed: describe(err, 'test') };
  }
}

function single(koncorde, input) {
  const reg = register(koncorde, input.filters);
  if (reg.failed) {
    return reg.failed;
  }
  if (!Array.isArray(input.docs)) {
    return { id: reg.id, valid: true };
  }
  const results = input.docs.map((doc) => {
    const m = matches(koncorde, doc);
    return m.failed ? m.failed : m.ids.has(reg.id);
  });
  return { id: reg.id, results };
}

function multi(koncorde, input) {
  const ids = [];
  const errors = [];
  for (const filter of input.multi) {
    const reg = register(koncorde, filter);
    ids.push(reg.failed ? null : reg.id);
    errors.push(reg.failed ? reg.failed : null);
  }
  const docs = Array.isArray(input.docs) ? input.docs : [];
  const results = docs.map((doc) => {
    const m = matches(koncorde, doc);
    return m.failed ? m.failed : ids.map((id) => id !== null && m.ids.has(id));
  });
  return { ids, errors, results };
}

function answer(line, flags) {
  let input;
  try {
    input = JSON.parse(line);
  } catch (err) {
    return { error: `invalid JSON: ${err.message}`, stage: 'input' };
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { error: 'a line must be a JSON object', stage: 'input' };
  }
  const koncorde = new Koncorde({ maxConditions: flags.maxConditions, seed: SEED });
  if (Array.isArray(input.multi)) {
    return multi(koncorde, input);
  }
  if (Object.hasOwn(input, 'filters')) {
    return single(koncorde, input);
  }
  return { error: 'a line needs a "filters" key or a "multi" array', stage: 'input' };
}

function main() {
  let flags;
  try {
    flags = parseFlags(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`oracle: ${err.message}\n`);
    process.exit(2);
  }
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (line.trim() !== '') {
      process.stdout.write(`${JSON.stringify(answer(line, flags))}\n`);
    }
  });
}

main();
