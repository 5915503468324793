#!/bin/sh
# deps.sh -- make sure the Debian packages hebb needs are installed.
# usage: tools/deps.sh build|test|bench|fuzz
# Installs what is missing with apt-get when run as root; otherwise stops
# with the exact command to run.
set -e
build="gcc make pkg-config liblua5.4-dev libopenblas-openmp-dev libfftw3-dev libreadline-dev"
test_="g++ lua5.4 luajit tmux valgrind dataset-fashion-mnist chromium python3-nbformat python3-numpy libhdf5-103-1 python3-h5py luarocks groff-base libsqlite3-0 openmpi-bin libopenmpi3"
bench="python3-numpy python3-torch hyperfine"
fuzz="clang libclang-rt-14-dev"
case "$1" in
  build) want="$build" ;;
  test) want="$build $test_" ;;
  bench) want="$build $test_ $bench" ;;
  fuzz) want="$build $fuzz" ;;
  *) echo "usage: $0 build|test|bench|fuzz" >&2; exit 2 ;;
esac
missing=""
for p in $want; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
  echo "hebb: installing Debian packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
  echo "hebb: missing Debian packages:$missing" >&2
  echo "run:  sudo apt-get install$missing" >&2
  exit 1
fi
