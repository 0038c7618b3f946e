// Compares two sameStep.mjs outputs: loss identical or not, gradients bit-identical, worst relative error.
import { readFileSync } from 'node:fs';
const [a, b] = process.argv.slice(2).map((f) => JSON.parse(readFileSync(f, 'utf8')));
for (const net of Object.keys(a)) {
  let worst = 0, where = '', identical = 0, n = 0;
  for (const k of Object.keys(a[net].grads)) {
    const ga = a[net].grads[k], gb = b[net].grads[k];
    let d = 0, norm = 1e-30, same = true;
    for (let i = 0; i < ga.length; i++) { d += (ga[i] - gb[i]) ** 2; norm += ga[i] ** 2; if (ga[i] !== gb[i]) same = false; }
    const r = Math.sqrt(d / norm); n++; if (same) identical++;
    if (r > worst) { worst = r; where = k; }
  }
  console.log(`${net}: loss ${a[net].loss} vs ${b[net].loss} (${a[net].loss === b[net].loss ? 'identical' : 'differs'}); ${identical}/${n} gradients bit-identical; worst relative error ${worst.toExponential(2)}${where ? ` (${where})` : ''}`);
}
