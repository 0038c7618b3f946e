#!/usr/bin/env python3
# Used by experiments/interop/run.sh. Independent of snn: NIR's own reader (nir.read, type checked) + a PyTorch
# simulation of NIR semantics (Euler dt=1, spike v > v_th, reset to v_reset, v0 = 0), readout
# = argmax of the mean of Output over T steps; compared with snn eval --predictions.
import sys, gzip, numpy as np, torch, torch.nn.functional as F, nir
path, images_gz, pred_csv = sys.argv[1:4]
g = nir.read(path)
T = int(np.asarray(g.metadata['timesteps']).reshape(-1)[0])
raw = gzip.open(images_gz).read()
n, h, w = (int.from_bytes(raw[i:i+4], 'big') for i in (4, 8, 12))
x0 = torch.tensor(np.frombuffer(raw, np.uint8, offset=16).reshape(n, 1, h, w).astype(np.float32) / 255)
ins = {k: [s for s, d in g.edges if d == k] for k in g.nodes}
order, seen = [], set()
def visit(k):
    if k in seen: return
    seen.add(k)
    for s in ins[k]: visit(s)
    order.append(k)
for k in g.nodes: visit(k)
t = lambda a: torch.tensor(np.asarray(a, dtype=np.float32))
state, acc = {}, 0
for step in range(T):
    val = {}
    for k in order:
        node = g.nodes[k]; ty = type(node).__name__
        x = None
        for s in ins[k]: x = val[s] if x is None else x + val[s]
        if ty == 'Input': y = x0
        elif ty == 'Conv2d':
            y = F.conv2d(x, t(node.weight), t(node.bias), tuple(int(v) for v in node.stride), tuple(int(v) for v in node.padding), tuple(int(v) for v in node.dilation), int(node.groups))
        elif ty == 'Affine': y = x @ t(node.weight).T + t(node.bias)
        elif ty == 'Flatten': y = x.reshape(x.shape[0], -1)
        elif ty == 'AvgPool2d': y = F.avg_pool2d(x, tuple(int(v) for v in node.kernel_size), tuple(int(v) for v in node.stride), tuple(int(v) for v in node.padding))
        elif ty == 'Scale': y = x * t(node.scale)
        elif ty in ('LIF', 'IF'):
            v = state.get(k, torch.zeros_like(x))
            hmem = v + (t(node.v_leak) - v + t(node.r) * x) / t(node.tau) if ty == 'LIF' else v + t(node.r) * x
            z = (hmem > t(node.v_threshold)).float()
            state[k] = torch.where(z > 0, t(node.v_reset).expand_as(hmem), hmem)
            y = z
        elif ty == 'Output':
            acc = acc + x; y = x
        else: raise SystemExit(f'unhandled {ty}')
        val[k] = y
pred = (acc / T).argmax(1).numpy()
ref = np.loadtxt(pred_csv, delimiter=',', skiprows=1)
print(f'{path}: read by nir.read from {nir.__file__.rsplit("/nir/", 1)[0]} (type checks on); {int((pred == ref[:, 2]).sum())} of {len(ref)} predictions equal to snn eval; accuracy {(pred == ref[:, 1]).mean():.4f}')
