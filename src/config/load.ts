/**
 * Loading a config: YAML file → `--set` overrides → schema validation (which fills defaults).
 * Every failure is a UserError of one line naming the file, the key path and the problem.
 */
import { parseDocument, stringify } from 'yaml';
import type { z } from 'zod';
import { UserError } from '../util/errors.js';
import { readBounded } from '../util/boundedRead.js';
import { ConfigSchema, type Config } from './schema.js';

type Tree = Record<string, unknown>;

const isTree = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses YAML text; syntax errors name the file, line and column. */
export function parseYaml(text: string, file: string): unknown {
  let doc: ReturnType<typeof parseDocument>;
  try {
    doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, logLevel: 'error' }); // no warnings on stderr
  } catch (e) {
    throw new UserError(`${file}: YAML syntax error: ${yamlFailure(e)}`);
  }
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = e.linePos?.[0];
    const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
    const msg = deepMessage(e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, ''));
    throw new UserError(`${where}: YAML syntax error: ${msg}`);
  }
  try {
    return doc.toJS();
  } catch (e) {
    // An alias to a missing anchor, too many aliases (a "billion laughs" document), ...
    throw new UserError(`${file}: YAML error: ${yamlFailure(e)}`);
  }
}

/** The parser's own stack overflow, said as what it means for the document. */
const deepMessage = (msg: string): string => (/call stack/i.test(msg) ? 'nested too deeply (collections inside collections, thousands of levels)' : msg);

function yamlFailure(e: unknown): string {
  if (e instanceof RangeError) return deepMessage('call stack');
  return deepMessage((e instanceof Error ? e.message : String(e)).split('\n')[0]);
}

/** A config is a few kilobytes; a megabyte is far more than any real one. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** The text of a config file: a regular file of at most MAX_CONFIG_BYTES (no FIFO, device, folder). */
export function readConfigText(file: string): string {
  return readBounded(file, { what: 'config file', maxBytes: MAX_CONFIG_BYTES }).toString('utf8');
}

export function readConfigFile(file: string): Tree {
  const text = readConfigText(file);
  const data = parseYaml(text, file);
  if (data === null || data === undefined) return {};
  if (!isTree(data)) throw new UserError(`${file}: a config must be a YAML mapping of keys, got ${describe(data)}`);
  return data;
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  return `a ${typeof v}`;
}

/**
 * Applies `a.b.c=value` to a config tree. The value is read as a YAML scalar or flow
 * collection (`0.1` a number, `true` a boolean, `[crop,flip]` a list, `null` null).
 */
export function applySet(tree: Tree, assignment: string): void {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new UserError(`--set ${assignment}: expected key.path=value`);
  const path = assignment.slice(0, eq).trim();
  const raw = assignment.slice(eq + 1);
  const keys = path.split('.');
  if (keys.some((k) => k === '')) throw new UserError(`--set ${assignment}: empty key in '${path}'`);
  const bad = keys.find((k) => k === '__proto__' || k === 'constructor' || k === 'prototype');
  if (bad) throw new UserError(`--set ${path}: unknown key '${bad}'`);
  const value = raw === '' ? '' : parseYaml(raw, `--set ${path}`);
  let node = tree;
  for (let i = 0; i < keys.length - 1; i++) {
    const next = node[keys[i]];
    if (next === undefined || next === null) node[keys[i]] = {};
    else if (!isTree(next)) {
      throw new UserError(`--set ${path}: '${keys.slice(0, i + 1).join('.')}' is ${describe(next)}, not a section`);
    }
    node = node[keys[i]] as Tree;
  }
  node[keys[keys.length - 1]] = value;
}

/** The first schema problem as one line: `key.path: what is wrong`. */
export function formatIssue(issue: z.core.$ZodIssue, source: string): string {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (path ? `${path}.${k}` : k));
    return `${source}: unknown key ${keys.map((k) => `'${k}'`).join(', ')}`;
  }
  let msg = issue.message;
  if (issue.code === 'invalid_value' && 'values' in issue) {
    msg = `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  } else if (issue.code === 'invalid_union') {
    // A union of literals (e.g. quant.bits): list the allowed values.
    const values = issue.errors.flat().flatMap((e) => (e.code === 'invalid_value' ? e.values : []));
    if (values.length > 0) msg = `must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}`;
  } else if (issue.code === 'invalid_type') {
    msg = msg.replace(/^Invalid input: /, '');
  }
  return `${source}: ${path || '(top level)'}: ${msg}`;
}

export function validateConfig(tree: unknown, source: string): Config {
  const r = ConfigSchema.safeParse(tree);
  if (!r.success) throw new UserError(formatIssue(r.error.issues[0], source));
  return r.data;
}

/** Reads, overrides and validates a config file. */
export function loadConfig(file: string, sets: readonly string[] = []): Config {
  const tree = readConfigFile(file);
  for (const s of sets) applySet(tree, s);
  return validateConfig(tree, file);
}

export function configToYaml(cfg: Config): string {
  return stringify(cfg, { lineWidth: 100 });
}
