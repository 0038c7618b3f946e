/**
 * The layering rules of .dependency-cruiser.cjs (run by `npm test` on dist/src): the real tree
 * keeps them, and a deliberate violation of each is caught — a tree written here, cruised with
 * the project's own configuration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from './helpers.js';

const root = process.cwd();
const depcruise = join(root, 'node_modules', '.bin', 'depcruise');

function cruise(cwd: string): { status: number | null; out: string } {
  const r = spawnSync(depcruise, ['dist/src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], { cwd, encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

/** A tree of modules (path → source) under a fresh folder, with the project's configuration. */
function tree(files: Record<string, string>): string {
  const dir = tempDir('layering');
  copyFileSync(join(root, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'));
  for (const [path, source] of Object.entries(files)) {
    const file = join(dir, 'dist', 'src', path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, source);
  }
  return dir;
}

test('the source tree keeps every layering rule', () => {
  const r = cruise(root);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /no dependency violations found \((\d{3,}) modules/);
});

test('a model importing a backend module fails the check, naming the rule', () => {
  const r = cruise(tree({
    'models/layers.js': "import { nativeHeap } from '../backends/wasm-native/heap.js';\nexport const x = nativeHeap;\n",
    'backends/wasm-native/heap.js': 'export const nativeHeap = 1;\n',
  }));
  assert.notEqual(r.status, 0);
  assert.match(r.out, /error core-imports-backend: dist\/src\/models\/layers\.js → dist\/src\/backends\/wasm-native\/heap\.js/);
});

test('the library importing a command, a backend importing a model, and a cycle each fail', () => {
  const r = cruise(tree({
    'train/trainer.js': "import '../cli/train.js';\n",
    'cli/train.js': 'export {};\n',
    'backends/cpu/index.js': "import '../../snn/lif.js';\n",
    'snn/lif.js': 'export {};\n',
    'runs/a.js': "import './b.js';\n",
    'runs/b.js': "import './a.js';\n",
  }));
  assert.notEqual(r.status, 0);
  assert.match(r.out, /error library-imports-cli: dist\/src\/train\/trainer\.js → dist\/src\/cli\/train\.js/);
  assert.match(r.out, /error backend-imports-above: dist\/src\/backends\/cpu\/index\.js → dist\/src\/snn\/lif\.js/);
  assert.match(r.out, /error no-circular: dist\/src\/runs\/a\.js → /);
});
