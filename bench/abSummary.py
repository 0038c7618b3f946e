#!/usr/bin/env python3
"""Before/after summary of `node dist/bench/bench.js` results of two builds (main and a branch),
run alternately on the same machine: per case and thread count, each run's training and forward
CPU milliseconds per batch (user + system of the case's process: steadier than wall time on a
loaded machine), wall milliseconds and peak RSS, and the medians.

  python3 bench/abSummary.py --main A.json,B.json --branch C.json,D.json > summary.md
"""
import argparse
import json
import statistics

p = argparse.ArgumentParser()
p.add_argument('--main', required=True)
p.add_argument('--branch', required=True)
a = p.parse_args()

rows = {}
for tag, files in (('main', a.main.split(',')), ('branch', a.branch.split(','))):
    for f in files:
        d = json.load(open(f))
        for c in d['cases']:
            s = c['spec']
            r = rows.setdefault((s['model'], s['timesteps'], s['batch'], s['threads']), {}).setdefault(tag, {k: [] for k in ('train', 'fwd', 'wall', 'rss')})
            r['train'].append(c['train']['cpuMsPerBatch'])
            r['fwd'].append(c['forward']['cpuMsPerBatch'])
            r['wall'].append(c['train']['msPerBatch'])
            r['rss'].append(c['memory']['peakRssMB'])

def cell(xs):
    return f"{statistics.median(xs):.0f} ({' / '.join(f'{x:.0f}' for x in xs)})"

print('| model | T | batch | threads | build | train CPU ms/batch, median (runs) | forward CPU ms/batch | train wall ms/batch | peak RSS MB |')
print('| --- | --- | --- | --- | --- | --- | --- | --- | --- |')
for (model, T, batch, threads), v in sorted(rows.items()):
    for tag in ('main', 'branch'):
        r = v.get(tag)
        if r:
            print(f"| {model} | {T} | {batch} | {threads} | {tag} | {cell(r['train'])} | {cell(r['fwd'])} | {cell(r['wall'])} | {cell(r['rss'])} |")
