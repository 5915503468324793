#!/bin/sh
# tests/examples: the example experiments run and agree with exact results.
HEBB=${HEBB:-build/hebb}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# Metropolis energies within 4 standard errors (+0.005) of Onsager, I4 exact
if "$HEBB" examples/ising_demo.lua 32 2000 --check > "$out" 2>&1; then
  echo "PASS examples/ising_demo_matches_onsager"
else
  echo "FAIL examples/ising_demo_matches_onsager:"; sed 's/^/    /' "$out"; exit 1
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
# the flagship: networks trained on lattice waves give the Dirac and
# Klein-Gordon equations back (F5 doubler masses, four species in 2D,
# omega^2 = m^2 + 4 sin^2(k/2)); small sizes (make fields-examples: full)
if "$HEBB" examples/dirac.lua --small --check > "$out" 2>&1; then
  echo "PASS examples/dirac_from_antisymmetric_network"
else
  echo "FAIL examples/dirac_from_antisymmetric_network:"; sed 's/^/    /' "$out"; exit 1
fi
# the measured Klein-Gordon dispersion against F1/F2, and F3
if "$HEBB" examples/klein_gordon.lua --small --check > "$out" 2>&1; then
  echo "PASS examples/klein_gordon_dispersion_F1_F2_F3"
else
  echo "FAIL examples/klein_gordon_dispersion_F1_F2_F3:"; sed 's/^/    /' "$out"; exit 1
fi
