#!/usr/bin/python3
"""resnet20 as a spiking network in PyTorch, trained on Fashion-MNIST: the parity check of snn.

An independent implementation of what `snn train --config experiments/fmnist-resnet20.yaml`
trains (src/models/presets.ts `resnet20`, `spike` connection), with the same data, maths and
hyper-parameters, so that both frameworks' accuracies on one setting can be compared
(experiments/parity.sh). Nothing of snn is imported; the IDX files are read here.

- Data: the first `--train-limit` training and `--test-limit` test images of Fashion-MNIST (IDX,
  gzip or not), pixels / 255 normalised with mean 0.286, std 0.353 (snn's catalog values), fed at
  28x28x1; a seeded shuffle per epoch, the last incomplete batch dropped (as snn's trainer).
- Network: 3x3 stem of 16 (conv + BN, computed once per image and repeated over T: direct
  encoding) + LIF, then basic blocks 3-3-3 of widths 16-32-64 (strides 1, 2, 2),
      y = SN(BN(conv2(SN(BN(conv1(x))))) + sc(x)),  sc = BN(conv1x1, stride s) when the shape changes,
  global average pooling, the mean over T, a linear classifier. Convs: no bias, padding k//2,
  Kaiming-normal (fan-out, gain sqrt 2); linear: PyTorch's default init. BN: PyTorch's (eps 1e-5,
  momentum 0.1) over T x N; tdBN (--tdbn): BN outputs scaled by alpha V_th, alpha = 1/sqrt 2 on the two
  BNs that are summed before a block's last neuron, 1 elsewhere.
- LIF (SpikingJelly's multi-step LIFNode, decay_input, hard reset, detach_reset, V_-1 = V_reset):
      H_t = V_{t-1} + (X_t - (V_{t-1} - V_reset)) / tau,   S_t = Heaviside(H_t - V_th) (Theta(0) = 1),
      V_t = H_t (1 - S_t) + V_reset S_t,
  sigmoid surrogate dS/dH = alpha sigmoid(alpha x)(1 - sigmoid(alpha x)), x = H - V_th.
- Loss: softmax cross-entropy of the time-mean logits. AdamW (PyTorch's: decoupled weight decay on
  every parameter), learning rate per step: linear warm-up over round(warmup_epochs x steps per
  epoch) steps (lr (s+1)/W), then cosine to 0 over the remaining steps (src/train/schedule.ts).
- Evaluation: BN running statistics (eval mode) on the test images after every epoch; prints one
  JSON object: best and final test accuracy, per-epoch accuracies, mean firing rate.

Usage: /usr/bin/python3 experiments/torch_resnet20.py --seed 1 --threshold 0.5 [--train-limit 5000 ...]
"""
import argparse
import gzip
import json
import math
import os
import struct
import sys
import time


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--train-limit", type=int, default=5000)
    p.add_argument("--test-limit", type=int, default=2000)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--test-batch", type=int, default=256)
    p.add_argument("--timesteps", type=int, default=2)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--warmup-epochs", type=float, default=0.2)
    p.add_argument("--tau", type=float, default=2.0)
    p.add_argument("--threshold", type=float, default=1.0)
    p.add_argument("--alpha", type=float, default=4.0, help="sigmoid surrogate sharpness")
    p.add_argument("--tdbn", action="store_true")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    return p.parse_args(argv)


ARGS = parse_args(sys.argv[1:])
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(ARGS.threads)
MEAN, STD = 0.286, 0.353


def read_idx(path, limit):
    """An IDX file (ubyte) as a uint8 tensor of its first `limit` items; checks the header."""
    for name in (path, path + ".gz"):
        if os.path.exists(name):
            opener = gzip.open if name.endswith(".gz") else open
            with opener(name, "rb") as f:
                data = f.read()
            break
    else:
        sys.exit(f"torch_resnet20: {path}[.gz] not found")
    zero, dtype, ndim = data[0:2], data[2], data[3]
    if zero != b"\0\0" or dtype != 0x08:
        sys.exit(f"torch_resnet20: {path} is not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    count = min(dims[0], limit)
    per = math.prod(dims[1:])
    body = data[4 + 4 * ndim : 4 + 4 * ndim + count * per]
    if len(body) != count * per:
        sys.exit(f"torch_resnet20: {path} is truncated")
    return torch.frombuffer(bytearray(body), dtype=torch.uint8).reshape(count, *dims[1:])


def load(split, limit):
    prefix = "train" if split == "train" else "t10k"
    x = read_idx(os.path.join(ARGS.data, f"{prefix}-images-idx3-ubyte"), limit)
    y = read_idx(os.path.join(ARGS.data, f"{prefix}-labels-idx1-ubyte"), limit).long()
    x = ((x.float() / 255.0) - MEAN) / STD
    return x.unsqueeze(1), y  # [N, 1, 28, 28]


class SpikeFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        s = torch.sigmoid(x * ARGS.alpha)
        return grad * s * (1.0 - s) * ARGS.alpha


class LIF(nn.Module):
    """Multi-step LIF over [T*N, ...] (time-major); records its firing rate."""

    def __init__(self, T):
        super().__init__()
        self.T = T
        self.rate = None

    def forward(self, x):
        xs = x.reshape(self.T, -1)
        v = torch.zeros_like(xs[0])
        out = []
        for t in range(self.T):
            h = v + (xs[t] - v) / ARGS.tau
            s = SpikeFn.apply(h - ARGS.threshold)
            v = h * (1.0 - s.detach())
            out.append(s)
        y = torch.stack(out).reshape(x.shape)
        self.rate = y.detach().mean().item()
        return y


class BN(nn.BatchNorm2d):
    """BatchNorm with tdBN's alpha V_th on the normalised value (1 without tdBN)."""

    def __init__(self, c, alpha=1.0):
        super().__init__(c)
        self.scale = alpha * ARGS.threshold if ARGS.tdbn else 1.0

    def forward(self, x):
        if self.scale == 1.0:
            return super().forward(x)
        # y = gamma * (scale * x_hat) + beta: PyTorch's BN with gamma scaled, the same value and gradient.
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight * self.scale, self.bias,
                            self.training, self.momentum, self.eps)


def conv(cin, cout, k, stride):
    c = nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False)
    nn.init.kaiming_normal_(c.weight, mode="fan_out", nonlinearity="relu")
    return c


class Block(nn.Module):
    def __init__(self, cin, width, stride, T):
        super().__init__()
        a = 1 / math.sqrt(2)
        self.conv1, self.bn1, self.sn1 = conv(cin, width, 3, stride), BN(width), LIF(T)
        self.conv2, self.bn2 = conv(width, width, 3, 1), BN(width, a)
        self.down = None
        if stride != 1 or cin != width:
            self.down = nn.Sequential(conv(cin, width, 1, stride), BN(width, a))
        self.sn_out = LIF(T)

    def forward(self, x):
        y = self.bn2(self.conv2(self.sn1(self.bn1(self.conv1(x)))))
        return self.sn_out(y + (x if self.down is None else self.down(x)))


class Resnet20(nn.Module):
    def __init__(self, T):
        super().__init__()
        self.T = T
        self.stem_conv, self.stem_bn, self.stem_sn = conv(1, 16, 3, 1), BN(16), LIF(T)
        blocks, c = [], 16
        for width, stride in ((16, 1), (32, 2), (64, 2)):
            for k in range(3):
                blocks.append(Block(c, width, stride if k == 0 else 1, T))
                c = width
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(64, 10)

    def forward(self, x):
        T, n = self.T, x.shape[0]
        y = self.stem_bn(self.stem_conv(x))
        y = y.unsqueeze(0).expand(T, *y.shape).reshape(T * n, *y.shape[1:])
        y = self.blocks(self.stem_sn(y))
        z = y.mean((2, 3)).reshape(T, n, -1).mean(0)
        return self.head(z)

    def firing_rate(self):
        rates = [m.rate for m in self.modules() if isinstance(m, LIF) and m.rate is not None]
        return sum(rates) / len(rates)


def learning_rate(step, steps_per_epoch, epochs):
    warm = round(ARGS.warmup_epochs * steps_per_epoch)
    if step < warm:
        return ARGS.lr * (step + 1) / warm
    span = max(1, epochs * steps_per_epoch - warm)
    p = min(1.0, (step - warm) / span)
    return ARGS.lr * 0.5 * (1 + math.cos(math.pi * p))


def evaluate(model, x, y):
    model.eval()
    correct, rates = 0, []
    with torch.no_grad():
        for i in range(0, len(y), ARGS.test_batch):
            out = model(x[i : i + ARGS.test_batch])
            correct += (out.argmax(1) == y[i : i + ARGS.test_batch]).sum().item()
            rates.append(model.firing_rate())
    model.train()
    return correct / len(y), sum(rates) / len(rates)


def main():
    torch.manual_seed(ARGS.seed)
    xtr, ytr = load("train", ARGS.train_limit)
    xte, yte = load("test", ARGS.test_limit)
    model = Resnet20(ARGS.timesteps)
    opt = torch.optim.AdamW(model.parameters(), lr=ARGS.lr, weight_decay=ARGS.weight_decay)
    steps_per_epoch = len(ytr) // ARGS.batch
    gen = torch.Generator().manual_seed(ARGS.seed)
    step, accs, rate, t0 = 0, [], None, time.time()
    for epoch in range(ARGS.epochs):
        order = torch.randperm(len(ytr), generator=gen)
        for b in range(steps_per_epoch):
            idx = order[b * ARGS.batch : (b + 1) * ARGS.batch]
            for g in opt.param_groups:
                g["lr"] = learning_rate(step, steps_per_epoch, ARGS.epochs)
            loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
        acc, rate = evaluate(model, xte, yte)
        accs.append(acc)
        print(f"epoch {epoch + 1}: loss {loss.item():.4f}, test accuracy {100 * acc:.2f} %, {time.time() - t0:.0f} s", file=sys.stderr)
    print(json.dumps({
        "framework": "pytorch", "torch": torch.__version__, "seed": ARGS.seed, "args": vars(ARGS),
        "bestAccuracy": max(accs), "finalAccuracy": accs[-1], "epochAccuracies": accs,
        "meanFiringRate": rate, "seconds": round(time.time() - t0, 1),
    }))


if __name__ == "__main__":
    main()
