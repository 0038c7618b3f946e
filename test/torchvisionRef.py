"""Reference values from torchvision for test/imageFolderTorch.test.ts (reads JSON on stdin).

- "folder": torchvision.datasets.ImageFolder on root/val with Resize(resize) + CenterCrop(size),
  bytes as HWC lists, plus classes and targets.
- "crops": RandomResizedCrop.get_params for each case, fed the case's uniform draws in order
  (torch.empty(1).uniform_ and torch.randint patched to read them).
- "resize": PIL's Image.resize(BILINEAR) of raw RGB bytes.
- "resized": F.resized_crop(img, top, left, h, w, [size, size]) (+ hflip) of a file, HWC bytes.
"""
import json
import math
import sys

import numpy as np
import torch
from PIL import Image
from torchvision import datasets, transforms
from torchvision.transforms import functional as F

req = json.load(sys.stdin)
out = {}


def hwc(img):
    return np.asarray(img.convert("RGB"), dtype=np.uint8).reshape(-1).tolist()


if "folder" in req:
    f = req["folder"]
    t = transforms.Compose([transforms.Resize(f["resize"]), transforms.CenterCrop(f["size"])])
    ds = datasets.ImageFolder(f["root"], transform=t)
    out["folder"] = {
        "classes": ds.classes,
        "targets": ds.targets,
        "files": [p for p, _ in ds.samples],
        "pixels": [hwc(ds[i][0]) for i in range(len(ds))],
    }

if "crops" in req:
    boxes = []
    real_empty, real_randint = torch.empty, torch.randint
    for case in req["crops"]:
        draws = iter(case["draws"])

        class Uniform:
            def uniform_(self, a, b):
                a, b = float(a), float(b)
                return torch.tensor([a + (b - a) * next(draws)], dtype=torch.float64)

        torch.empty = lambda *args, **kw: Uniform()
        torch.randint = lambda lo, hi, size: torch.tensor([lo + math.floor(next(draws) * (hi - lo))])
        try:
            img = torch.zeros(1, case["height"], case["width"])
            boxes.append(list(transforms.RandomResizedCrop.get_params(img, case["scale"], case["ratio"])))
        finally:
            torch.empty, torch.randint = real_empty, real_randint
    out["crops"] = boxes

if "resized" in req:
    res = []
    for r in req["resized"]:
        img = Image.open(r["file"]).convert("RGB")
        c = F.resized_crop(img, r["top"], r["left"], r["height"], r["width"], [r["size"], r["size"]])
        if r["flip"]:
            c = F.hflip(c)
        res.append(hwc(c))
    out["resized"] = res

if "resize" in req:
    res = []
    for r in req["resize"]:
        img = Image.frombytes("RGB", (r["width"], r["height"]), bytes(r["data"]))
        res.append(hwc(img.resize((r["outWidth"], r["outHeight"]), Image.BILINEAR)))
    out["resize"] = res

json.dump(out, sys.stdout)
