#!/usr/bin/python3
"""greenrun's example workload: a small convolutional network learns
scikit-learn's bundled handwritten digits (1,797 8x8 images, no download) with
PyTorch, on the CPU (CUDA where present), telling greenrun its phases (one per
epoch, then "eval"), the samples it trains on and how far it has got.

    tools/setup example          # or:
    build/cli/greenrun -- /usr/bin/python3 examples/train.py [--epochs N]
"""

import argparse
import os
import sys
import time

try:
    import greenrun
except ImportError:  # not installed: the source tree's python/greenrun.py
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
    import greenrun

import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def data(device):
    digits = load_digits()
    x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0  # N x 1 x 8 x 8, 0..1
    y = torch.tensor(digits.target, dtype=torch.long)
    train_idx, test_idx = train_test_split(range(len(y)), test_size=0.2, random_state=0, stratify=digits.target)
    return TensorDataset(x[train_idx], y[train_idx]), (x[test_idx].to(device), y[test_idx].to(device))


def model():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 16 x 4 x 4
        nn.Flatten(), nn.Linear(16 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 10))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))  # a small network: more threads only contend
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_set, (test_x, test_y) = data(device)
    loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    net = model().to(device)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    loss_fn = nn.CrossEntropyLoss()
    total, done = args.epochs * len(train_set), 0

    for epoch in range(1, args.epochs + 1):
        greenrun.phase(f"epoch {epoch}")
        started, loss_sum = time.monotonic(), 0.0
        net.train()
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            opt.zero_grad()
            loss = loss_fn(net(x), y)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(y)
            done += len(y)
            greenrun.count(len(y), "samples")
            greenrun.progress(done / total)
        print(f"epoch {epoch}: loss {loss_sum / len(train_set):.4f} ({time.monotonic() - started:.1f} s)", flush=True)

    with greenrun.phase("eval"), torch.no_grad():
        net.eval()
        accuracy = (net(test_x).argmax(1) == test_y).float().mean().item()
    print(f"test accuracy: {accuracy:.1%} on {len(test_y)} held-out digits ({device})")


if __name__ == "__main__":
    main()
