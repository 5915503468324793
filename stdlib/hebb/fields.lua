-- hebb.fields: fields on lattices.
--
--   Klein-Gordon   leapfrog steps (C stencils), energy, stability limit,
--                  the dispersion w(k) measured from an FFT in time
--                  (hebb._fields_kg)
--   Dirac          naive, Wilson and staggered operators and Hamiltonians
--                  as sparse matrices, spectra, zero modes, e^{-iHt} v by
--                  Lanczos (hebb._fields_dirac)
--   Schrodinger    split-step Fourier and Crank-Nicolson propagators (on a
--                  grid, or with a Hamiltonian matrix), c128 or c64,
--                  imaginary-time ground states, the Madelung decomposition
--                  (hebb._fields_quantum)
--
-- This file assembles the module from its parts (docs/design.md, "Modules
-- made of several files").  docs/fields.md is the guide.
local doc = require("hebb").doc

local M = {}
doc(M, "hebb.fields\n\nFields on lattices: Klein-Gordon leapfrog steps, energy, "
  .. "stability limit and measured dispersion; lattice Dirac operators and "
  .. "Hamiltonians (naive, Wilson, staggered; d = 1..4) as sparse matrices, their "
  .. "spectra and zero modes, e^{-iHt} v by Lanczos; the Schrodinger equation "
  .. "(split-step Fourier, Crank-Nicolson on a grid or with a sparse Hamiltonian, "
  .. "imaginary-time ground states) and the "
  .. "Madelung decomposition.  See docs/fields.md.")

require("hebb._parts").install(M, {
  "hebb._fields_kg",        -- Klein-Gordon
  "hebb._fields_dirac",     -- Dirac operators and Hamiltonians
  "hebb._fields_quantum",   -- Schrodinger, Madelung
}, "hebb.fields")

return M
