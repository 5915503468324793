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
