#!/usr/bin/env bash
# A newcomer's first run: install what is missing, build in release, start the ktrdrd daemon,
# and run backtests through it on the shipped data with a live progress bar and result tables.
# State goes to $KTRDR_HOME (default ~/.ktrdr); HTTP on $KTRDR_HTTP (default 127.0.0.1:8000).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
echo "building ktrdrd, ktrdrctl and the plugins (release; the first build compiles dependencies: a few minutes)…"
swift build -c release 2>&1 | grep -E "error|warning: |Build complete" || true
K=.build/release/ktrdrctl
"$K" daemon start --http "${KTRDR_HTTP:-127.0.0.1:8000}"
"$K" daemon status
echo
"$K" plugins list
echo
echo "\$ ktrdrctl backtest run neuro_mean_reversion EURUSD 1h --start 2017-12-22"
echo "  # neural: the shipped model (torch plugin, libtorch) on its held-out test period (metadata.json training.periods.test)"
"$K" backtest run neuro_mean_reversion EURUSD 1h --start 2017-12-22
echo
echo "\$ ktrdrctl backtest run sma_crossover EURUSD 1h"
"$K" backtest run sma_crossover EURUSD 1h
echo
[ -f data/SYNTH_1m.csv ] || "$K" data generate --bars 1000000
echo "\$ ktrdrctl backtest run sma_crossover SYNTH 1m --pace 300000    # 1M bars replayed at 300k bars/s to watch progress"
"$K" backtest run sma_crossover SYNTH 1m --pace 300000
echo "  # The generated bars are a random walk: no strategy has an edge on them. At the default costs"
echo "  # (0.1 % commission and 0.05 % slippage per side, about 0.3 % per round trip) 2,666 trades"
echo "  # take the account to -99.95 %; with --commission 0 --slippage 0 the whipsaw alone costs -34.8 %."
echo
"$K" ops list --limit 5
echo
echo "The daemon keeps running: try 'curl -s ${KTRDR_HTTP:-127.0.0.1:8000}/api/v1/operations' or '$K --help'; stop it with '$K daemon stop'."
