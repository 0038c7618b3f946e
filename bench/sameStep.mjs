// One training step (loss and every gradient) of four small networks, written as JSON, to compare two builds:
//   (in each tree) node bench/sameStep.mjs $PWD/dist cpu|wasm OUT.json; node bench/sameStepCompare.mjs A.json B.json
// Used for the engine-boundary change: main's dist vs the branch's, on cpu and on wasm + native.
// node step.mjs DIST BACKEND OUT: one training step (loss, gradients) of three small networks.
const [dist, backend, out] = process.argv.slice(2);
const { ConfigSchema } = await import(`${dist}/src/config/schema.js`);
const { buildModel } = await import(`${dist}/src/models/index.js`);
const { crossEntropy } = await import(`${dist}/src/losses/crossEntropy.js`);
const { initBackend } = await import(`${dist}/src/engine/backend.js`);
const { createRng } = await import(`${dist}/src/util/rng.js`);
const tfm = await import('@tensorflow/tfjs');
await initBackend(backend);
const res = {};
for (const [connection, type, arch] of [['spike', 'lif', null], ['sew-add', 'plif', null], ['da', 'lif', 'danet'], ['sew-add', 'if', null]]) {
  const rng = createRng(34);
  const input = { height: 12, width: 12, channels: 1, numClasses: 3 };
  const cfg = ConfigSchema.parse({ model: { preset: 'tiny', timesteps: 3, connection, ...(arch ? { arch } : {}), neuron: { type, tau: 2 } } });
  const xs = Float32Array.from({ length: 3 * 144 }, () => rng.next());
  const model = buildModel(cfg.model, input, createRng(6));
  const vars = [...model.params.values()];
  const x = tfm.tensor4d(xs, [3, 12, 12, 1]);
  const y = tfm.tensor1d([0, 1, 2], 'int32');
  const { value, grads } = tfm.variableGrads(() => crossEntropy(model.forward(x, { training: true, timesteps: 3 }), y), vars);
  res[`${connection}/${type}`] = { loss: value.dataSync()[0], grads: Object.fromEntries([...model.params].map(([k, v]) => [k, Array.from(grads[v.name].dataSync())])) };
}
(await import('node:fs')).writeFileSync(out, JSON.stringify(res));
