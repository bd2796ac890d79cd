#!/usr/bin/python3
"""One epoch of the fashion_mlp model in Python PyTorch (Debian's python3-torch, LibTorch 1.13),
for the side-by-side comparison with bench_supervised_epoch. Same data (55000 training images,
standardised), MLP 784-512-256-10 ReLU with dropout 0.2, AdamW, batch 128, one intra-op thread,
minibatches gathered from a tensor by a shuffled index (no DataLoader workers).
Prints "epoch_seconds=<s> steps=<n> loss=<last>". Run with /usr/bin/python3."""
import gzip
import sys
import time

import numpy as np
import torch

DIR = "/usr/share/datasets/fashion-mnist"


def read_idx(path, header):
    with gzip.open(path, "rb") as f:
        data = f.read()
    return np.frombuffer(data, dtype=np.uint8, offset=header)


def main():
    epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    torch.set_num_threads(1)
    torch.manual_seed(1)
    x = read_idx(f"{DIR}/train-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28).astype(np.float32) / 255.0
    y = read_idx(f"{DIR}/train-labels-idx1-ubyte.gz", 8).astype(np.int64)
    x, y = torch.from_numpy(x[:55000].copy()), torch.from_numpy(y[:55000].copy())
    x = (x - x.mean()) / x.std()
    model = torch.nn.Sequential(
        torch.nn.Flatten(),
        torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Dropout(0.2),
        torch.nn.Linear(512, 256), torch.nn.ReLU(), torch.nn.Dropout(0.2),
        torch.nn.Linear(256, 10))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=7.6e-4)
    batch = 128
    steps = 0
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(x.shape[0])
        for begin in range(0, x.shape[0], batch):
            index = order[begin:begin + batch]
            xb, yb = x.index_select(0, index), y.index_select(0, index)
            logits = model(xb)
            loss = torch.nn.functional.cross_entropy(logits, yb)
            loss_value = loss.item()
            accuracy = (logits.argmax(1) == yb).sum().item() / len(yb)  # graybox logs it too
            opt.zero_grad()
            loss.backward()
            opt.step()
            steps += 1
    seconds = (time.perf_counter() - start) / epochs
    print(f"epoch_seconds={seconds:.4f} steps={steps // epochs} loss={loss_value:.4f} acc={accuracy:.3f}")


if __name__ == "__main__":
    main()
