#!/usr/bin/env bash
# A newcomer's first run: install what is missing, build in release, and backtest the shipped
# strategy on the shipped data with a live progress bar and the result table.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
echo "building ktrdrctl (release; the first build fetches and compiles dependencies, a few minutes)…"
swift build -c release --product ktrdrctl 2>&1 | grep -E "error|warning: |Compiling ktrdrctl|Build complete" || true
bin=.build/release/ktrdrctl
"$bin" strategies list
echo
echo "\$ ktrdrctl backtest run --local sma_crossover EURUSD 1h"
"$bin" backtest run --local sma_crossover EURUSD 1h
echo
echo "\$ ktrdrctl backtest run --local rsi_mean_reversion GOOG 1d --start 2006-01-01 --end 2012-12-31"
"$bin" backtest run --local rsi_mean_reversion GOOG 1d --start 2006-01-01 --end 2012-12-31
