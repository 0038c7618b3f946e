#!/usr/bin/python3
"""PyTorch reference of the benchmark's networks, for `npm run bench` (bench/bench.ts).

The same networks as the snn side, with the same maths, measured the same way:

- reference: conv3x3(C->32)+BN+LIF, conv3x3(32->32)+BN+LIF, avgpool 2, conv3x3(32->64)+BN+LIF,
  avgpool 2, flatten, mean over T, FC (bench/referenceCnn.ts).
- tiny / resnet19 / resnet20: the spiking ResNets of src/models/presets.ts with the `spike`
  connection, y = SN(BN(conv2(SN(BN(conv1(x))))) + shortcut(x)), shortcut = BN(conv1x1 stride s)
  when the shape changes; tiny flattens the last map into the classifier, resnet19/20 average
  it (GAP); resnet19 has FC 256 + LIF before the classifier.
- Convs have no bias (BN follows), padding k//2; BN is PyTorch's (eps 1e-5, momentum 0.1) over
  T x N (time folded into the batch); direct encoding: the stem's conv + BN run once on [N, ...]
  and the result is repeated over T; readout = mean over T of the logits (taken before the
  classifier when it is the only linear layer after the last neuron, as the snn side does:
  the same value, T x cheaper).
- LIF (tau 2, V_th 0.5 — snn's default since the defaults sweep —, V_reset 0, hard reset, detach_reset, V starts at V_reset):
      H_t = V_{t-1} + (X_t - (V_{t-1} - V_reset)) / tau,  S_t = Heaviside(H_t - V_th),
      V_t = H_t (1 - S_t) + V_reset S_t
  with the sigmoid surrogate (alpha 4): dS/dH = alpha sigmoid(alpha x) (1 - sigmoid(alpha x)).
  --lif loop (default) is what SpikingJelly's multi-step LIFNode does with backend='torch':
  a Python loop over t of single steps, autograd through every step, the spike from a
  torch.autograd.Function (Heaviside forward, surrogate backward). --lif fused is one
  autograd.Function over all T with hand-written BPTT (still a Python loop over t inside,
  but two saved tensors per layer instead of the loop's per-step graph).
- Loss: softmax cross-entropy; optimizer: Adam (lr 1e-3, betas 0.9/0.999, eps 1e-8).

Measured: forward (eval mode, no_grad) and training steps (zero_grad, forward, backward, Adam),
median of the timed steps after the warm-up ones, wall time and the process's CPU time; peak RSS = getrusage(RUSAGE_SELF).ru_maxrss
of this process (run one case per fresh process). Threads are pinned with OMP_NUM_THREADS /
MKL_NUM_THREADS (set before torch is imported) and torch.set_num_threads.

Usage:
  /usr/bin/python3 bench/torch_reference.py --model reference --timesteps 4 --batch 32 --threads 1
  /usr/bin/python3 bench/torch_reference.py --case '{"model":"tiny","timesteps":4,"batch":64,...}'
Prints one JSON object on stdout (progress on stderr).
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

MODELS = ("reference", "tiny", "resnet19", "resnet20")
CIFAR = {"height": 32, "width": 32, "channels": 3, "numClasses": 10}
FASHION = {"height": 28, "width": 28, "channels": 1, "numClasses": 10}
DEFAULT_INPUT = {"reference": CIFAR, "tiny": FASHION, "resnet19": CIFAR, "resnet20": CIFAR}

# (stem width, blocks per stage, widths, strides, hidden FC widths, readout)
PRESETS = {
    "tiny": (16, [1, 1], [16, 32], [2, 2], [], "flatten"),
    "resnet19": (128, [3, 3, 2], [128, 256, 512], [1, 2, 2], [256], "average"),
    "resnet20": (16, [3, 3, 3], [16, 32, 64], [1, 2, 2], [], "average"),
}

# Neuron defaults of src/config/schema.ts
TAU, V_TH, V_RESET, ALPHA, DETACH_RESET = 2.0, 0.5, 0.0, 4.0, True
LR = 1e-3


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--case", help="a case spec as bench.ts passes it (JSON); other flags override it")
    p.add_argument("--model", choices=MODELS)
    p.add_argument("--timesteps", type=int)
    p.add_argument("--batch", type=int)
    p.add_argument("--input", help="HxWxC, default per model (32x32x3; tiny 28x28x1)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--warmup", type=int)
    p.add_argument("--warmup-seconds", type=float, help="warm up for at least this long too (when warmup > 0)")
    p.add_argument("--steps", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--lif", choices=("loop", "fused"), default="loop")
    p.add_argument("--memory-format", choices=("channels_last", "contiguous"), default="channels_last")
    p.add_argument("--skip-forward", action="store_true", help="measure training steps only")
    p.add_argument("--skip-train", action="store_true", help="measure forward passes only (bench/exported.ts)")
    p.add_argument("--slow-step-seconds", type=float, default=None,
                   help="a first warm-up step slower than this drops the rest of the warm-up and times at most 3 steps")
    a = p.parse_args(argv)
    spec = json.loads(a.case) if a.case else {}
    model = a.model or spec.get("model") or "reference"
    inp = dict(spec.get("input") or DEFAULT_INPUT[model])
    if a.input:
        h, w, c = (int(v) for v in a.input.lower().split("x"))
        inp.update(height=h, width=w, channels=c)
    return {
        "model": model,
        "timesteps": a.timesteps or spec.get("timesteps", 4),
        "batch": a.batch or spec.get("batch", 32),
        "input": inp,
        "threads": a.threads,
        "warmup": a.warmup if a.warmup is not None else spec.get("warmup", 2),
        "warmupSeconds": a.warmup_seconds if a.warmup_seconds is not None else spec.get("warmupSeconds", 0),
        "steps": a.steps or spec.get("steps", 5),
        "seed": a.seed if a.seed is not None else spec.get("seed", 1),
        "lif": a.lif,
        "memoryFormat": a.memory_format,
        "skipForward": a.skip_forward,
        "skipTrain": a.skip_train,
        "slowStepSeconds": a.slow_step_seconds if a.slow_step_seconds is not None else spec.get("slowStepSeconds"),
    }


CFG = parse_args(sys.argv[1:])
# Before torch is imported: OpenMP sizes its pool from these at start-up.
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(CFG["threads"])

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(CFG["threads"])
CHANNELS_LAST = CFG["memoryFormat"] == "channels_last"


class SigmoidSurrogateSpike(torch.autograd.Function):
    """Heaviside forward (Theta(0) = 1), sigmoid surrogate backward (SpikingJelly's surrogate.Sigmoid)."""

    @staticmethod
    def forward(ctx, x):
        if x.requires_grad:
            ctx.save_for_backward(x)
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        s = torch.sigmoid(x * ALPHA)
        return grad * (1.0 - s) * s * ALPHA


def lif_loop(x):
    """x: [T, M]. SpikingJelly LIFNode(step_mode='m', backend='torch'): one single step per t."""
    v = torch.full_like(x[0], V_RESET)
    out = []
    for t in range(x.shape[0]):
        h = v + (x[t] - (v - V_RESET)) / TAU  # neuronal_charge (decay_input=True)
        s = SigmoidSurrogateSpike.apply(h - V_TH)  # neuronal_fire
        sd = s.detach() if DETACH_RESET else s
        v = h * (1.0 - sd) + V_RESET * sd  # neuronal_reset (hard)
        out.append(s)
    return torch.stack(out)


class LifFused(torch.autograd.Function):
    """All T steps in one autograd node; BPTT written out (the formulas of src/snn/lif.ts)."""

    @staticmethod
    def forward(ctx, x):
        T = x.shape[0]
        hs = torch.empty_like(x)
        ss = torch.empty_like(x)
        v = torch.full_like(x[0], V_RESET)
        for t in range(T):
            h = v + (x[t] - (v - V_RESET)) / TAU
            s = (h >= V_TH).to(x.dtype)
            hs[t] = h
            ss[t] = s
            v = h * (1.0 - s) + V_RESET * s
        ctx.save_for_backward(hs, ss)
        return ss

    @staticmethod
    def backward(ctx, gs):
        hs, ss = ctx.saved_tensors
        sig = torch.sigmoid((hs - V_TH) * ALPHA)
        sg = sig * (1.0 - sig) * ALPHA
        gx = torch.empty_like(gs)
        gv = torch.zeros_like(gs[0])
        k = 1.0 / TAU
        for t in range(gs.shape[0] - 1, -1, -1):
            dvdh = 1.0 - ss[t] if DETACH_RESET else 1.0 - ss[t] + (V_RESET - hs[t]) * sg[t]
            gh = gs[t] * sg[t] + gv * dvdh
            gx[t] = gh * k
            gv = gh * (1.0 - k)
        return gx


LIF = lif_loop if CFG["lif"] == "loop" else LifFused.apply


class MultiStepLIF(nn.Module):
    """[T*N, ...] -> unfold to [T, N*...] in memory order (no copy), LIF over T, fold back."""

    def __init__(self, T):
        super().__init__()
        self.T = T

    def forward(self, x):
        if x.dim() == 4 and CHANNELS_LAST:
            nhwc = x.permute(0, 2, 3, 1)  # a contiguous view of a channels-last tensor
            y = LIF(nhwc.reshape(self.T, -1)).reshape(nhwc.shape)
            return y.permute(0, 3, 1, 2)  # channels-last again, no copy
        return LIF(x.reshape(self.T, -1)).reshape(x.shape)


def conv(cin, cout, k, stride):
    c = nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False)
    nn.init.kaiming_normal_(c.weight, mode="fan_out", nonlinearity="relu")  # as layers.ts
    return c


def repeat_over_time(x, T):
    """[N, ...] -> [T*N, ...], the same values at every step (gradient: the sum over T)."""
    if T == 1:
        return x
    y = x.unsqueeze(0).expand(T, *x.shape).reshape(T * x.shape[0], *x.shape[1:])
    return y.contiguous(memory_format=torch.channels_last) if CHANNELS_LAST else y


def mean_over_time(z, T):
    return z if T == 1 else z.reshape(T, z.shape[0] // T, *z.shape[1:]).mean(0)


class ReferenceCnn(nn.Module):
    def __init__(self, inp, T):
        super().__init__()
        h, w, c = inp["height"], inp["width"], inp["channels"]
        self.T = T
        self.conv1, self.bn1, self.sn1 = conv(c, 32, 3, 1), nn.BatchNorm2d(32), MultiStepLIF(T)
        self.conv2, self.bn2, self.sn2 = conv(32, 32, 3, 1), nn.BatchNorm2d(32), MultiStepLIF(T)
        self.conv3, self.bn3, self.sn3 = conv(32, 64, 3, 1), nn.BatchNorm2d(64), MultiStepLIF(T)
        self.fc = nn.Linear(64 * (h // 4) * (w // 4), inp["numClasses"])

    def forward(self, x):
        T = self.T
        y = self.sn1(repeat_over_time(self.bn1(self.conv1(x)), T))  # stem once per image
        y = F.avg_pool2d(self.sn2(self.bn2(self.conv2(y))), 2)
        y = F.avg_pool2d(self.sn3(self.bn3(self.conv3(y))), 2)
        return self.fc(mean_over_time(y.flatten(1), T))


class BasicBlock(nn.Module):
    """`spike` connection: y = SN(BN(conv2(SN(BN(conv1(x))))) + shortcut(x))."""

    def __init__(self, cin, width, stride, T):
        super().__init__()
        self.conv1, self.bn1, self.sn1 = conv(cin, width, 3, stride), nn.BatchNorm2d(width), MultiStepLIF(T)
        self.conv2, self.bn2 = conv(width, width, 3, 1), nn.BatchNorm2d(width)
        self.down = None
        if stride != 1 or cin != width:
            self.down = nn.Sequential(conv(cin, width, 1, stride), nn.BatchNorm2d(width))
        self.sn_out = MultiStepLIF(T)

    def forward(self, x):
        y = self.bn2(self.conv2(self.sn1(self.bn1(self.conv1(x)))))
        return self.sn_out(y + (x if self.down is None else self.down(x)))


class SpikingResnet(nn.Module):
    def __init__(self, preset, inp, T):
        super().__init__()
        stem, blocks, widths, strides, hidden, readout = PRESETS[preset]
        self.T = T
        self.stem_conv, self.stem_bn, self.stem_sn = conv(inp["channels"], stem, 3, 1), nn.BatchNorm2d(stem), MultiStepLIF(T)
        layers, c, h, w = [], stem, inp["height"], inp["width"]
        for count, width, stride in zip(blocks, widths, strides):
            for k in range(count):
                s = stride if k == 0 else 1
                layers.append(BasicBlock(c, width, s, T))
                c = width
                h, w = (h + 2 - 3) // s + 1, (w + 2 - 3) // s + 1
        self.stages = nn.Sequential(*layers)
        self.flatten = readout == "flatten"
        features = c * h * w if self.flatten else c
        self.hidden = nn.ModuleList()
        self.hidden_sn = nn.ModuleList()
        for units in hidden:
            self.hidden.append(nn.Linear(features, units))
            self.hidden_sn.append(MultiStepLIF(T))
            features = units
        self.head = nn.Linear(features, inp["numClasses"])

    def forward(self, x):
        T = self.T
        y = self.stem_sn(repeat_over_time(self.stem_bn(self.stem_conv(x)), T))
        y = self.stages(y)
        z = y.flatten(1) if self.flatten else y.mean((2, 3))
        if len(self.hidden) == 0:
            return self.head(mean_over_time(z, T))  # linear: averaging first is the same value
        for fc, sn in zip(self.hidden, self.hidden_sn):
            z = sn(fc(z))
        return mean_over_time(self.head(z), T)


def build(cfg):
    T = cfg["timesteps"]
    if cfg["model"] == "reference":
        return ReferenceCnn(cfg["input"], T)
    return SpikingResnet(cfg["model"], cfg["input"], T)


def cpu_capability():
    import re

    m = re.search(r"CPU capability usage: (\S+)", torch.__config__.show())
    return m.group(1) if m else None


def max_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def timing(samples_ms, cpu_samples_ms, batch):
    ms = statistics.median(samples_ms)
    cpu = statistics.median(cpu_samples_ms)
    return {
        "msPerBatch": round(ms, 2),
        "imagesPerSecond": round(batch * 1000 / ms, 2),
        "samplesMs": [round(s, 2) for s in samples_ms],
        # CPU time of the process (user + system, all threads): hardly moved by the machine's load
        # with one thread; with several it includes OpenMP's spin-waiting.
        "cpuMsPerBatch": round(cpu, 2),
        "imagesPerCpuSecond": round(batch * 1000 / cpu, 2),
        "cpuSamplesMs": [round(s, 2) for s in cpu_samples_ms],
    }


def main():
    cfg = CFG
    torch.manual_seed(cfg["seed"])
    inp = cfg["input"]
    rss_after_import = max_rss_mb()
    model = build(cfg)
    x = torch.rand(cfg["batch"], inp["channels"], inp["height"], inp["width"])
    y = torch.randint(0, inp["numClasses"], (cfg["batch"],))
    if CHANNELS_LAST:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=LR, betas=(0.9, 0.999), eps=1e-8, weight_decay=0)

    def forward_step():
        with torch.no_grad():
            model(x)

    losses = []

    def train_step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        value = loss.item()
        if value != value:
            raise RuntimeError("loss is NaN")
        losses.append(value)

    def timed(f, what):
        warmup, steps, slow = cfg["warmup"], cfg["steps"], cfg["slowStepSeconds"]
        min_s = cfg["warmupSeconds"]
        i = 0
        start = time.perf_counter()
        while i < warmup or (warmup > 0 and time.perf_counter() - start < min_s):
            t0 = time.perf_counter()
            f()
            dt = time.perf_counter() - t0
            if i < 5:
                print(f"  {what} warm-up {i + 1}: {dt * 1000:.0f} ms", file=sys.stderr)
            if i == 0 and slow is not None and dt > slow:
                warmup, steps, min_s = 1, min(steps, 3), 0
            i += 1
        samples, cpu_samples = [], []
        for _ in range(steps):
            c0 = time.process_time()
            t0 = time.perf_counter()
            f()
            samples.append((time.perf_counter() - t0) * 1000)
            cpu_samples.append((time.process_time() - c0) * 1000)
        return timing(samples, cpu_samples, cfg["batch"])

    fwd = None
    if not cfg["skipForward"]:
        model.eval()
        fwd = timed(forward_step, "forward")
    trn = None
    if not cfg["skipTrain"]:
        model.train()
        trn = timed(train_step, "train")
    result = {
        "spec": {k: cfg[k] for k in ("model", "timesteps", "batch", "input", "warmup", "steps", "seed")},
        "engine": {
            "name": "pytorch",
            "torch": torch.__version__,
            "python": sys.version.split()[0],
            "threads": torch.get_num_threads(),
            "mkldnn": torch.backends.mkldnn.is_available(),
            "cpuCapability": cpu_capability(),
            "ompWaitPolicy": os.environ.get("OMP_WAIT_POLICY"),
            "memoryFormat": cfg["memoryFormat"],
            "lif": cfg["lif"],
        },
        "parameters": sum(p.numel() for p in model.parameters()),
        "forward": fwd,
        "train": trn,
        "memory": {"maxRssMB": round(max_rss_mb(), 1), "maxRssAfterImportMB": round(rss_after_import, 1)},
        "loss": {"first": losses[0], "last": losses[-1]} if losses else None,
    }
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
