/**
 * Fuzzing the config loader: thousands of seeded random inputs (mutated real configs, random
 * YAML trees and token soup, deep nesting, anchors and aliases, odd tags, random `--set`
 * strings) go through loadConfig (file → applySet → validateConfig). Whatever the input,
 * the only error that may escape is a UserError with a one-line message (what the CLI
 * prints with exit code 2); no input may pollute Object.prototype; and every config that
 * loads must survive the round trip through the run folder's config.yaml.
 *
 * A failure prints the seed and case number; FUZZ_SEED=<n> FUZZ_CASES=<n> rerun other seeds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { configToYaml, loadConfig, parseYaml, validateConfig } from '../src/config/load.js';
import { isUserError } from '../src/util/errors.js';
import { fixture, repoRoot, tempDir } from './helpers.js';

/** mulberry32: a small seeded generator, so every case can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = Number(process.env.FUZZ_SEED ?? 20261123);
const CASES = Number(process.env.FUZZ_CASES ?? 2500);

const KEYS = [
  'name', 'seed', 'backend', 'data', 'dataset', 'root', 'batchSize', 'testBatchSize', 'augment', 'cropPadding',
  'trainLimit', 'testLimit', 'synthetic', 'classes', 'train', 'test', 'height', 'width', 'channels', 'noise', 'dvs',
  'frames', 'splitBy', 'size', 'model', 'arch', 'preset', 'blocks', 'widths', 'connection', 'block', 'downsample',
  'timesteps', 'encoding', 'tdBN', 'neuron', 'type', 'tau', 'threshold', 'vReset', 'reset', 'detachReset', 'surrogate',
  'alpha', 'epochs', 'optimizer', 'lr', 'momentum', 'nesterov', 'weightDecay', 'beta1', 'beta2', 'eps', 'schedule',
  'warmupEpochs', 'milestones', 'gamma', 'minLr', 'evalEvery', 'gradClip', 'onNonFinite', 'quant', 'bits', 'loss',
  'mode', 'kd', 'teacher', 'tna', 'twin', 'lambda',
  // keys that have bitten JavaScript loaders before
  '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '', ' ', 'a.b', '<<', '?', '-',
  'é', '日本', 'key with spaces', '0', '1e3', 'null', 'true',
];
const SCALARS = [
  '0', '1', '-1', '2', '4', '16', '0.5', '1e-3', '1e400', '-1e400', '.inf', '-.inf', '.nan', '.NaN', '0x1F', '0o17', '1_000',
  '4294967296', '9007199254740993', '-0', '3.', '.5', 'true', 'false', 'yes', 'no', 'on', 'off', 'null', '~', "''", '""',
  'tiny', 'resnet19', 'lif', 'if', 'plif', 'sigmoid', 'atan', 'adam', 'sgd', 'cosine', 'step', 'crop', 'flip', 'synthetic',
  'mnist', 'wasm', 'cpu', 'hard', 'soft', 'kd', 'tna', 'skip', 'stop', '2001-12-14', '2001-12-14t21:59:43.10-05:00',
  '!!binary aGVsbG8=', '!!str 12', '!!int 7', '!!float 1', '!!bool true', '!!null', '!!timestamp 2001-12-14',
  '!custom x', '!!js/function "x"', '"\\u0000"', '"\\x07bell"', '"line\\nbreak"', "'it''s'", '"\\uD800"', '&a 4', '*a',
  '*nope', '|\n  block\n  text', '>-\n  folded', '[1, 2, 3]', '[]', '{}', '[crop, flip]', '{a: 1}', '[[1], [2]]',
  '{name: adam, lr: 0.1}', 'x'.repeat(300), '@reserved', '`tick', '%TAG', '---', '...', '#comment', '- - -', ': :',
];

/** Real configs to mutate. */
function corpus(): string[] {
  const texts: string[] = [];
  for (const dir of [join(repoRoot, 'configs'), join(repoRoot, 'test', 'fixtures')]) {
    for (const n of readdirSync(dir)) if (n.endsWith('.yaml')) texts.push(readFileSync(join(dir, n), 'utf8'));
  }
  texts.push(readFileSync(fixture('synthetic.yaml'), 'utf8'));
  return texts;
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

function randomValue(r: () => number, depth: number): unknown {
  const k = r();
  if (depth > 0 && k < 0.25) {
    const o: Record<string, unknown> = {};
    const n = Math.floor(r() * 5);
    for (let i = 0; i < n; i++) o[pick(r, KEYS)] = randomValue(r, depth - 1);
    return o;
  }
  if (depth > 0 && k < 0.35) return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth - 1));
  if (k < 0.5) return (r() - 0.5) * 10 ** Math.floor(r() * 12 - 4);
  if (k < 0.6) return Math.floor(r() * 100) - 10;
  if (k < 0.7) return r() < 0.5;
  if (k < 0.75) return null;
  return pick(r, SCALARS);
}

/** A structured random tree (schema keys mostly in the right places) as YAML text. */
function randomTreeText(r: () => number): string {
  const tree: Record<string, unknown> = {};
  const n = 1 + Math.floor(r() * 6);
  for (let i = 0; i < n; i++) tree[pick(r, KEYS)] = randomValue(r, 1 + Math.floor(r() * 4));
  return stringify(tree);
}

/** Raw YAML token soup: random keys, scalars, indentation, flow and block mixes. */
function soupText(r: () => number): string {
  const lines: string[] = [];
  const n = 1 + Math.floor(r() * 12);
  for (let i = 0; i < n; i++) {
    const indent = ' '.repeat(2 * Math.floor(r() * 4));
    const form = r();
    if (form < 0.6) lines.push(`${indent}${pick(r, KEYS)}: ${pick(r, SCALARS)}`);
    else if (form < 0.75) lines.push(`${indent}${pick(r, KEYS)}:`);
    else if (form < 0.85) lines.push(`${indent}- ${pick(r, SCALARS)}`);
    else if (form < 0.9) lines.push(`${indent}${pick(r, KEYS)}: &${pick(r, ['a', 'b'])} ${pick(r, SCALARS)}`);
    else if (form < 0.95) lines.push(`${indent}<<: *${pick(r, ['a', 'b', 'c'])}`);
    else lines.push(indent + pick(r, SCALARS));
  }
  return lines.join('\n');
}

/** A real config with a few random text edits. */
function mutate(r: () => number, text: string): string {
  let t = text;
  const edits = 1 + Math.floor(r() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(r() * (t.length + 1));
    const kind = r();
    if (kind < 0.2) t = t.slice(0, at) + t.slice(at + 1 + Math.floor(r() * 20));
    else if (kind < 0.4) t = t.slice(0, at) + pick(r, SCALARS) + t.slice(at);
    else if (kind < 0.5) t = t.slice(0, at) + pick(r, ['\t', '\n', ' ', ':', '-', '{', '}', '[', ']', ',', '#', '&', '*', '!', '|', '>', "'", '"', '%', '@', '\u0000', '\ufeff', '\r']) + t.slice(at);
    else if (kind < 0.6) t = t.slice(0, at);
    else if (kind < 0.75) {
      // replace a value after some colon with a random scalar
      const lines = t.split('\n');
      const i = Math.floor(r() * lines.length);
      const c = lines[i].indexOf(':');
      if (c >= 0) lines[i] = `${lines[i].slice(0, c + 1)} ${pick(r, SCALARS)}`;
      t = lines.join('\n');
    } else if (kind < 0.85) {
      const lines = t.split('\n');
      const i = Math.floor(r() * lines.length);
      lines.splice(i, 0, lines[Math.floor(r() * lines.length)] ?? '');
      t = lines.join('\n');
    } else {
      const lines = t.split('\n');
      const i = Math.floor(r() * lines.length);
      lines[i] = lines[i].replace(/^\s*/, ' '.repeat(Math.floor(r() * 7)));
      t = lines.join('\n');
    }
  }
  return t;
}

function deepText(r: () => number, depth = 20 + Math.floor(r() * 300)): string {
  const k = r();
  if (k < 0.33) return `model: ${'['.repeat(depth)}${']'.repeat(depth)}`;
  if (k < 0.66) return `data: ${'{a: '.repeat(depth)}1${'}'.repeat(depth)}`;
  // block nesting
  return Array.from({ length: Math.min(depth, 3000) }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n') + ' 1';
}

function aliasBomb(r: () => number): string {
  const levels = 2 + Math.floor(r() * 8);
  const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < levels; i++) lines.push(`a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]`);
  lines.push(`model: *a${levels - 1}`);
  return lines.join('\n');
}

function randomSet(r: () => number): string {
  const k = r();
  const path = Array.from({ length: 1 + Math.floor(r() * 4) }, () => pick(r, KEYS)).join(pick(r, ['.', '.', '.', '..', '/']));
  if (k < 0.05) return path; // no '='
  if (k < 0.1) return `=${pick(r, SCALARS)}`;
  if (k < 0.15) return `${path}=${pick(r, SCALARS)}=${pick(r, SCALARS)}`;
  if (k < 0.2) return `${path}=`;
  if (k < 0.25) return `__proto__.polluted=${pick(r, SCALARS)}`;
  if (k < 0.3) return `constructor.prototype.polluted=1`;
  if (k < 0.4) return `${path}=${pick(r, ['[', '{', '[1,', '{a: ', '*x', '&a', '!!binary', '"unterminated', "'", '- a\n- b', 'a: b\nc: d'])}`;
  return `${path}=${pick(r, SCALARS)}`;
}

test(`fuzz: ${CASES} random configs and --set strings never raise anything but a one-line UserError`, (t) => {
  const started = Date.now();
  const r = rng(SEED);
  const texts = corpus();
  // tmpfs when there is one: rewriting a file thousands of times on ext4 flushes it each time.
  const dir = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/snn-fuzz-') : tempDir('fuzz');
  const file = join(dir, 'fuzz.yaml');
  const tally = { loaded: 0, userErrors: 0 };
  // A few extremes too: 10,000 levels of flow and of block nesting.
  const extremes = [0.1, 0.5, 0.9].map((k) => deepText(() => k, 10_000));
  for (let i = 0; i < CASES + extremes.length; i++) {
    const kind = r();
    let text: string;
    if (i >= CASES) text = extremes[i - CASES];
    else if (kind < 0.4) text = mutate(r, pick(r, texts));
    else if (kind < 0.6) text = randomTreeText(r);
    else if (kind < 0.8) text = soupText(r);
    else if (kind < 0.81) text = deepText(r);
    else if (kind < 0.84) text = aliasBomb(r);
    else text = pick(r, texts);
    const sets = Array.from({ length: r() < 0.5 ? 0 : 1 + Math.floor(r() * 3) }, () => randomSet(r));
    writeFileSync(file, text);
    const label = `seed ${SEED} case ${i}: sets ${JSON.stringify(sets)}, text ${JSON.stringify(text.slice(0, 300))}`;
    try {
      const cfg = loadConfig(file, sets);
      tally.loaded++;
      // What a run folder stores must load back to the same config.
      const again = validateConfig(parseYaml(configToYaml(cfg), 'config.yaml'), 'config.yaml');
      assert.deepEqual(again, cfg, `round trip changed the config (${label})`);
    } catch (e) {
      if (e instanceof assert.AssertionError) throw e;
      assert.ok(isUserError(e), `not a UserError: ${(e as Error)?.stack ?? String(e)}\n(${label})`);
      const msg = (e as Error).message;
      assert.ok(msg.length > 0 && !/[\n\r]/.test(msg), `message is not one line: ${JSON.stringify(msg)} (${label})`);
      assert.ok(msg.length < 2000, `message is ${msg.length} characters long (${label})`);
      tally.userErrors++;
    }
    const probe = {} as Record<string, unknown>;
    assert.equal(probe.polluted, undefined, `Object.prototype was polluted (${label})`);
    assert.equal(Object.keys(Object.prototype).length, 0, `Object.prototype gained keys (${label})`);
  }
  rmSync(dir, { recursive: true, force: true });
  t.diagnostic(`${tally.loaded} loaded, ${tally.userErrors} rejected with a UserError, in ${Date.now() - started} ms`);
  // The generator must reach both outcomes, or it tests little.
  assert.ok(tally.loaded > CASES / 50, `only ${tally.loaded} inputs loaded`);
  assert.ok(tally.userErrors > CASES / 2, `only ${tally.userErrors} inputs were rejected`);
});
