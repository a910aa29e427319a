#!/usr/bin/env python3
"""Writes Tests/KtrdrCoreTests/Fixtures/overfitting.json: fixed equity curves of 10 trials and
the deflated Sharpe ratio and PBO (CSCV) computed from them with numpy, independently of the
Swift code it checks (Overfitting.swift). Formulas: see the doc comment there.

    python3 scripts/make_overfitting_fixture.py
"""
import itertools
import json
import math
import os
from statistics import NormalDist

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N, T, S = 10, 480, 16
rng = np.random.default_rng(20141203)
# Trials with small drifts and fat tails (Student t, 5 degrees of freedom), one with a real edge.
drift = np.linspace(-2e-4, 2e-4, N)
drift[7] = 8e-4
returns = drift[:, None] + 0.01 * rng.standard_t(5, size=(N, T))
equity = 100_000 * np.cumprod(np.concatenate([np.ones((N, 1)), 1 + returns], axis=1), axis=1)
equity = np.round(equity, 6)  # exact decimal values survive the JSON round trip

r = equity[:, 1:] / equity[:, :-1] - 1
mean = r.mean(axis=1)
var = r.var(axis=1, ddof=1)
d = r - mean[:, None]
p2 = (d ** 2).mean(axis=1)
skew = (d ** 3).mean(axis=1) / p2 ** 1.5
kurt = (d ** 4).mean(axis=1) / p2 ** 2
sharpe = mean / np.sqrt(var)

best = int(np.argmax(sharpe))
v = sharpe.var(ddof=1)
g = 0.5772156649015329
z = NormalDist().inv_cdf
sr0 = math.sqrt(v) * ((1 - g) * z(1 - 1 / N) + g * z(1 - 1 / (N * math.e)))
sr = sharpe[best]
dsr = NormalDist().cdf((sr - sr0) * math.sqrt(T - 1) / math.sqrt(1 - skew[best] * sr + (kurt[best] - 1) / 4 * sr ** 2))

blocks = np.array_split(np.arange(T), S)  # T divisible by S: equal blocks of bars


def block_sharpe(j, chosen):
    x = np.concatenate([r[j, blocks[b]] for b in chosen])
    return x.mean() / x.std(ddof=1)


overfit = splits = 0
for ins in itertools.combinations(range(S), S // 2):
    oos = [b for b in range(S) if b not in ins]
    is_sr = [block_sharpe(j, ins) for j in range(N)]
    chosen = int(np.argmax(is_sr))
    oos_sr = [block_sharpe(j, oos) for j in range(N)]
    rank = 1 + sum(1 for x in oos_sr if x < oos_sr[chosen])
    w = rank / (N + 1)
    overfit += math.log(w / (1 - w)) <= 0
    splits += 1

out = {"equity": equity.tolist(), "mean": mean.tolist(), "variance": var.tolist(), "skewness": skew.tolist(), "kurtosis": kurt.tolist(),
       "best": best, "expected_max_sharpe": sr0, "deflated_sharpe": dsr, "pbo": overfit / splits, "splits": splits,
       "quantiles": {str(p): z(p) for p in (1e-10, 0.001, 0.02425, 0.1, 0.5, 0.9, 0.975, 0.999, 1 - 1e-10)}}
with open(os.path.join(ROOT, "Tests", "KtrdrCoreTests", "Fixtures", "overfitting.json"), "w") as f:
    json.dump(out, f)
print(f"best trial {best}, DSR {dsr:.6f}, SR0 {sr0:.6f}, PBO {overfit / splits:.4f} over {splits} splits")
