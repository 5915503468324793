#!/bin/sh
# tests/examples: every example is a notebook that `hebb notebook check`
# reproduces from its manifest (examples/X.manifest.json, recorded at the
# small size make test can afford: the arguments are in the manifest).
# The examples assert their own numbers (--check) in the recorded runs, so a
# run that drifts or fails its check fails here.  FULL=1 (make
# examples-full) runs the full sizes instead.
cd "$(dirname "$0")/../.." || exit 2
HEBB=${HEBB:-build/hebb}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0

if [ -z "$FULL" ]; then
  for nb in examples/*.lua; do
    name=$(basename "$nb" .lua)
    man=examples/$name.manifest.json
    if [ ! -f "$man" ]; then
      echo "FAIL examples/$name: no manifest $man; record it with:"
      echo "    hebb notebook run $nb --format none -- <arguments of a small checked run>"
      status=1
    elif "$HEBB" notebook check "$nb" > "$out" 2>&1; then
      echo "PASS examples/${name}_reproduces ($(sed -n 's/.*reproduced: //p' "$out"))"
    else
      echo "FAIL examples/${name}_reproduces:"; sed 's/^/    /' "$out" | head -40; status=1
    fi
  done
  exit $status
fi

# --- full sizes ---------------------------------------------------------------
# Metropolis energies within 4 standard errors (+0.005) of Onsager, I4 exact
if "$HEBB" examples/ising_demo.lua 32 2000 --check > "$out" 2>&1; then
  echo "PASS examples/ising_demo_matches_onsager"
else
  echo "FAIL examples/ising_demo_matches_onsager:"; sed 's/^/    /' "$out"; status=1
fi
# learning dynamics: Adam = covariant GD (L1), Langevin relaxation (L3)
if "$HEBB" examples/learning_dynamics.lua --check > "$out" 2>&1; then
  echo "PASS examples/learning_dynamics_L1_L3"
else
  echo "FAIL examples/learning_dynamics_L1_L3:"; sed 's/^/    /' "$out"; status=1
fi
# Fashion-MNIST MLP 784-256-10 with Adam: >= 87% test accuracy in 5 epochs.
# One thread: the bits are the same at any thread count (0.8868 either
# way), and with another process on the second core a 2-thread run took
# 34 s instead of 11 (its parallel regions wait for the busy core)
if "$HEBB" --threads 1 examples/fashion_mnist.lua > "$out" 2>&1 &&
   awk '/^final test accuracy / { a = $4 } END { exit !(a != "" && a + 0 >= 0.87) }' "$out"; then
  echo "PASS examples/fashion_mnist_reaches_87_percent ($(sed -n 's/^final test accuracy //p' "$out"))"
else
  echo "FAIL examples/fashion_mnist_reaches_87_percent (needs a final test accuracy >= 0.87):"
  sed 's/^/    /' "$out"; status=1
fi
exit $status
