#!/usr/bin/env python3
# Used by experiments/interop/run.sh. Independent of snn: TensorBoard's own event reader on a run folder.
import sys, csv
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
run = sys.argv[1]
ea = EventAccumulator(run, size_guidance={'scalars': 0, 'histograms': 0, 'tensors': 0})
ea.Reload()
tags = ea.Tags()
rows = list(csv.DictReader(open(f'{run}/metrics.csv')))
pairs = {'train_loss': 'train/loss', 'train_acc': 'train/accuracy', 'test_loss': 'test/loss', 'test_acc': 'test/accuracy', 'lr': 'train/lr', 'firing_rate': 'firing_rate/mean', 'train_img_per_s': 'speed/train_img_per_s'}
bad = 0
for col, tag in pairs.items():
    ev = ea.Scalars(tag)
    for r, e in zip(rows, ev):
        want = float(r[col])
        if e.step != int(r['step']) or abs(e.value - want) > 5e-6 * abs(want) + 1e-12: bad += 1
    print(f'{tag:24s} {len(ev)} points, steps {[e.step for e in ev]}, values {[round(e.value, 6) for e in ev]} (metrics.csv {col}: {[r[col] for r in rows]})')
print('scalar tags:', len(tags['scalars']), ' histograms:', len(tags['histograms']), ' tensors (text):', tags['tensors'])
print('mismatches against metrics.csv:', bad)
