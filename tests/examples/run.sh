#!/bin/sh
# tests/examples: the example experiments run and agree with exact results.
HEBB=${HEBB:-build/hebb}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# the Ising notebook, quick size: Metropolis/Wolff energies, specific heat,
# reweighting within 4 errors of Kaufman's exact values; Binder crossing
if "$HEBB" examples/ising.lua --quick --check > "$out" 2>&1; then
  echo "PASS examples/ising_matches_kaufman"
else
  echo "FAIL examples/ising_matches_kaufman:"; sed 's/^/    /' "$out"; exit 1
fi
# learning dynamics: Adam = covariant GD (L1), Langevin relaxation (L3)
if "$HEBB" examples/learning_dynamics.lua --check > "$out" 2>&1; then
  echo "PASS examples/learning_dynamics_L1_L3"
else
  echo "FAIL examples/learning_dynamics_L1_L3:"; sed 's/^/    /' "$out"; exit 1
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
  sed 's/^/    /' "$out"; exit 1
fi
