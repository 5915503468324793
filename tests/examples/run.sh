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
  # README's figure is the one examples/ising.lua draws in its recorded run
  fig=docs/figures/ising-energy.svg
  if grep -q "figure sha256 $(sha256sum "$fig" | cut -c1-16)" examples/ising.manifest.json; then
    echo "PASS examples/readme_figure_current"
  else
    echo "FAIL examples/readme_figure_current: $fig is not the energy figure of" \
         "examples/ising.manifest.json; copy it from 'hebb notebook run examples/ising.lua -- --quick --check'"
    status=1
  fi
  # README's "What you can explore" figures are the recorded runs' figures
  for pair in rk4_network:rk4-network-order second_law:second-law-entropy \
              observers:observers-mutual-information madelung:madelung-packet \
              learning_dynamics:learning-dynamics-metric covariant_metric:covariant-metric-training \
              tripartite:tripartite-loss selection:selection-fixation criticality:criticality-tails; do
    nb=${pair%%:*} fig=docs/figures/${pair#*:}.svg
    if grep -q "figure sha256 $(sha256sum "$fig" | cut -c1-16)" "examples/$nb.manifest.json"; then
      echo "PASS examples/readme_figure_${nb}_current"
    else
      echo "FAIL examples/readme_figure_${nb}_current: $fig is not a figure of" \
           "examples/$nb.manifest.json; copy it from 'hebb notebook run examples/$nb.lua -o DIR -- <its arguments>'"
      status=1
    fi
  done
  exit $status
fi

# --- full sizes ---------------------------------------------------------------
# the Ising notebook at full size: Metropolis/Wolff energies, specific heat,
# reweighting within 4 errors of Kaufman's exact values; Binder crossing
if "$HEBB" examples/ising.lua --check > "$out" 2>&1; then
  echo "PASS examples/ising_matches_kaufman"
else
  echo "FAIL examples/ising_matches_kaufman:"; sed 's/^/    /' "$out"; status=1
fi
# learning dynamics: Adam = covariant GD (L1, L2)
if "$HEBB" examples/learning_dynamics.lua --check > "$out" 2>&1; then
  echo "PASS examples/learning_dynamics_L1_L2"
else
  echo "FAIL examples/learning_dynamics_L1_L2:"; sed 's/^/    /' "$out"; status=1
fi
# the learning-as-physics notebooks at full size, with their checks: the full
# CGD metric, its rank and noise whitening; speed/plateau/stability (L3 and
# Fashion-MNIST, one thread as above); Moran selection; power-law tests
for nb in covariant_metric tripartite selection criticality; do
  if "$HEBB" --threads 1 examples/$nb.lua --check > "$out" 2>&1; then
    echo "PASS examples/${nb}_full"
  else
    echo "FAIL examples/${nb}_full:"; sed 's/^/    /' "$out"; status=1
  fi
done
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
# the field-theory notebooks at full size: Dirac from an antisymmetric
# network (F5 doubler masses, four species in 2D), Klein-Gordon (F1-F3)
for nb in dirac klein_gordon; do
  if "$HEBB" examples/$nb.lua --check > "$out" 2>&1; then
    echo "PASS examples/${nb}_full"
  else
    echo "FAIL examples/${nb}_full:"; sed 's/^/    /' "$out"; status=1
  fi
done
# the notebooks of hebb.world at full size (docs/world.md), with their checks
for nb in rk4_network second_law observers madelung; do
  if "$HEBB" examples/$nb.lua --check > "$out" 2>&1; then
    echo "PASS examples/${nb}_full"
  else
    echo "FAIL examples/${nb}_full:"; sed 's/^/    /' "$out"; status=1
  fi
done
# the renormalization-group notebook at full size (chi up to 24, a 64^2
# Monte Carlo lattice): R2-R6, c = 1/2, y_t and y_h within their errors
if "$HEBB" examples/rg_flow.lua --check > "$out" 2>&1; then
  echo "PASS examples/rg_flow_full"
else
  echo "FAIL examples/rg_flow_full:"; sed 's/^/    /' "$out"; status=1
fi
exit $status
