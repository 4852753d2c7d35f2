#!/usr/bin/env bash
# Installs the peers and load generators of `npm run bench` on a fresh Debian/Ubuntu machine.
# Without them the harness still runs, skipping the peers and scenarios that need them.
set -euo pipefail
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
# util-linux: taskset and prlimit. nginx-light: the HTTP backend of the rps and churn scenarios.
# noninteractive: iperf3's package asks whether to run a daemon (the default, no, is right).
$sudo apt-get update && $sudo env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y haproxy iperf3 wrk nginx-light socat util-linux
