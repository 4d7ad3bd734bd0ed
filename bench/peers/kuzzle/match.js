'use strict';
// Koncorde oracle for the benchmark's filtered workloads: reads {"filters":[...],"docs":[...]}
// on stdin and writes, one line per document, the JSON array of the indexes of the filters
// that match it (ascending), by storing every filter in one Koncorde 4.7 index and testing
// each document, as the stand-in does. bench/harness's TestWorkloadAgreesWithKoncorde
// compares these with the load generator's own evaluator (bench/load Filter.Match).
const { Koncorde } = require('koncorde');

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (c) => { input += c; });
process.stdin.on('end', () => {
  const { filters, docs } = JSON.parse(input);
  const koncorde = new Koncorde();
  const byRoom = new Map();
  filters.forEach((f, i) => {
    const n = koncorde.normalize(f, 'bench/oracle');
    koncorde.store(n);
    if (!byRoom.has(n.id)) byRoom.set(n.id, []);
    byRoom.get(n.id).push(i);
  });
  const out = [];
  for (const doc of docs) {
    const subs = [];
    for (const room of koncorde.test(doc, 'bench/oracle')) subs.push(...byRoom.get(room));
    subs.sort((a, b) => a - b);
    out.push(JSON.stringify(subs));
  }
  process.stdout.write(out.join('\n') + '\n');
});
