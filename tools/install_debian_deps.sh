#!/bin/sh
# Installs the Debian 12 packages sgm's build, tests and examples need.
# Runs apt-get through sudo when not already root.
set -eu
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
packages="cmake g++ make libeigen3-dev libboost-dev libtbb-dev catch2 librandom123-dev libstb-dev libthrust-dev zlib1g-dev npm dataset-fashion-mnist"
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends $missing
fi
