/** Every config shipped in configs/ validates against the schema as it is today. */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../src/config/load.js';
import { repoRoot } from './helpers.js';

const dir = join(repoRoot, 'configs');
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'));

test('configs/ holds the data-set configs', () => {
  for (const f of ['cifar10-dvs.yaml', 'cifar10-tna.yaml']) assert.ok(files.includes(f), f);
});

for (const f of files) {
  test(`configs/${f} validates`, () => {
    const cfg = loadConfig(join(dir, f));
    assert.equal(typeof cfg.name, 'string');
    if (cfg.data.dataset === 'cifar10-dvs') assert.equal(cfg.model.timesteps, cfg.data.dvs.frames, 'one frame per time step');
  });
}
