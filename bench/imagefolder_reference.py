"""torchvision's side of bench/imageFolder.ts: images per second of an ImageFolder DataLoader
with the standard ImageNet transforms (Debian's python3-torchvision 0.14 + Pillow).

usage: imagefolder_reference.py ROOT SIZE BATCH WORKERS EPOCHS   (prints one JSON object)
"""
import json
import sys
import time

import torch
import torchvision
from torchvision import datasets, transforms

root, size, batch, workers, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(1)
norm = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
train_t = transforms.Compose([transforms.RandomResizedCrop(size), transforms.RandomHorizontalFlip(), transforms.ToTensor(), norm])
eval_t = transforms.Compose([transforms.Resize(int(size / 0.875)), transforms.CenterCrop(size), transforms.ToTensor(), norm])


def rate(split, t, shuffle):
    ds = datasets.ImageFolder(f"{root}/{split}", transform=t)
    loader = torch.utils.data.DataLoader(ds, batch_size=batch, shuffle=shuffle, num_workers=workers, drop_last=False)
    rates = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        n = 0
        for x, _y in loader:
            n += x.shape[0]
        rates.append(n / (time.perf_counter() - t0))
    return rates


print(json.dumps({"torch": torch.__version__, "torchvision": torchvision.__version__, "workers": workers,
                  "train": rate("train", train_t, True), "eval": rate("val", eval_t, False)}))
