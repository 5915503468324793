-- test_graph.lua -- hebb.graph (stdlib/hebb/graph.lua): lattices, random
-- regular and small-world graphs, hypergraphs, checked against their
-- defining properties and exact values.
local check = require "check"
local hebb = require "hebb"
local T = require "hebb.tensor"
local sparse = require "hebb.sparse"
local graph = require "hebb.graph"
local test, eq, same, raises, near = check.test, check.eq, check.same, check.raises, check.near

local maxabs = check.maxabs

-- every vertex's neighbour set from the adjacency; fails on a self-loop or
-- an entry other than 1 (a repeated edge)
local function simple_neighbours(g)
  local r, c, v = g:adjacency():triplets()
  r, c, v = r:totable(), c:totable(), v:totable()
  local nb = {}
  for i = 1, g.n do nb[i] = {} end
  for k = 1, #r do
    check.truthy(r[k] ~= c[k], "no self-loop at " .. r[k])
    eq(v[k], 1.0, "entry (" .. r[k] .. ", " .. c[k] .. ")")
    nb[r[k]][c[k]] = true
  end
  return nb
end

test("lattice_2d_periodic", function()
  local g = graph.lattice { dims = { 5, 4 }, periodic = true }
  eq(g.n, 20)
  same(g:degree(), T.full({ 20 }, 4.0))
  local L = g:laplacian()
  same(L:matmul(T.ones(20)), T.zeros(20), 1e-15)   -- row sums vanish
  same(L:to_dense(), L:to_dense():t())
  -- site (x1, x2) is 1 + 4 x1 + x2: site 1 neighbours 2, 4, 5, 17
  local A = g:adjacency():to_dense()
  same(A[1], { 0, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0 })
  eq(#g:edges(), 40)
  eq(tostring(g), "graph with 20 vertices and 40 edges")
  eq(tostring(graph.hypergraph { { 1, 2, 3 } }), "hypergraph with 3 vertices and 1 hyperedges")
end)

test("lattice_3d_degree_and_open", function()
  local g = graph.lattice { dims = { 3, 3, 3 } }
  same(g:degree(), T.full({ 27 }, 6.0))
  local o = graph.lattice { dims = { 3 }, periodic = false }
  same(o:adjacency():to_dense(), { { 0, 1, 0 }, { 1, 0, 1 }, { 0, 1, 0 } })
  same(o:laplacian():to_dense(), { { 1, -1, 0 }, { -1, 2, -1 }, { 0, -1, 1 } })
end)

test("lattice_next_nearest", function()
  local g = graph.lattice { dims = { 4, 4 }, neighbors = "next-nearest" }
  same(g:degree(), T.full({ 16 }, 8.0))
  local A = g:adjacency():to_dense()
  eq(A[{ 1, 6 }], 1.0, "diagonal neighbour (0,0)-(1,1)")
  eq(A[{ 1, 16 }], 1.0, "diagonal neighbour across both boundaries")
  local o = graph.lattice { dims = { 3, 3 }, neighbors = "next-nearest", periodic = false }
  eq(o:degree()[5], 8.0, "centre of a 3x3 open patch")
  eq(o:degree()[1], 3.0, "corner")
end)

test("lattice_short_periodic_chain_counts_twice", function()
  -- L = 2: both neighbours are the same site; spectrum 4 sin^2(k/2) = {0, 4}
  local L = graph.lattice { dims = { 2 } }:laplacian()
  same(L:to_dense(), { { 2, -2 }, { -2, 2 } })
end)

test("lattice_laplacian_spectrum_vs_dense", function()
  -- the exact spectrum of the periodic 6 x 4 lattice, against the sum of
  -- the Laplacian's eigenvalues (its trace = 24 * 4) and a few eigsh values
  local L = graph.lattice { dims = { 6, 4 } }:laplacian()
  near(L:diagonal():sum(), 96, 0)
  local w = sparse.eigsh(L, 3)
  near(w[1], 0, 1e-10)
  near(w[2], 4 * math.sin(math.pi / 6) ^ 2, 1e-10)   -- k = 2 pi / 6
  near(w[3], 4 * math.sin(math.pi / 6) ^ 2, 1e-10)
end)

test("random_regular", function()
  local g = graph.random_regular(200, 3, { seed = 42 })
  same(g:degree(), T.full({ 200 }, 3.0))
  simple_neighbours(g)
  local g2 = graph.random_regular(200, 3, { seed = 42 })
  check.truthy(g:adjacency():to_dense():equal(g2:adjacency():to_dense()), "same seed, same graph")
  local g3 = graph.random_regular(200, 3, { seed = 43 })
  check.truthy(not g:adjacency():to_dense():equal(g3:adjacency():to_dense()), "other seed, other graph")
  local g4 = graph.random_regular(50, 10, { seed = 1 })
  same(g4:degree(), T.full({ 50 }, 10.0))
  simple_neighbours(g4)
end)

test("small_world_p0_is_ring", function()
  local g = graph.small_world(30, 4, 0, { seed = 3 })
  local ring = T.zeros(30, 30)
  for i = 1, 30 do
    for j = 1, 2 do
      local v = (i - 1 + j) % 30 + 1
      ring[{ i, v }] = 1; ring[{ v, i }] = 1
    end
  end
  same(g:adjacency():to_dense(), ring)
  -- k = 2 is the periodic chain
  same(graph.small_world(9, 2, 0):laplacian():to_dense(),
       graph.lattice { dims = { 9 } }:laplacian():to_dense())
end)

test("small_world_rewired", function()
  local g = graph.small_world(100, 6, 0.2, { seed = 9 })
  simple_neighbours(g)
  near(g:degree():sum(), 600, 0, "edge count n k / 2 kept")
  local g2 = graph.small_world(100, 6, 0.2, { seed = 9 })
  check.truthy(g:adjacency():to_dense():equal(g2:adjacency():to_dense()), "deterministic")
  local ring = graph.small_world(100, 6, 0)
  check.truthy(not g:adjacency():to_dense():equal(ring:adjacency():to_dense()), "rewired")
end)

test("hypergraph_incidence_and_laplacian", function()
  local h = graph.hypergraph { { 1, 2, 3 }, { 3, 4 }, { 2, 4, 5 } }
  eq(h.n, 5); eq(h.m, 3)
  local B = h:incidence()
  eq(B.shape[1], 5); eq(B.shape[2], 3)
  same(B:to_dense(), { { 1, 0, 0 }, { 1, 0, 1 }, { 1, 1, 0 }, { 0, 1, 1 }, { 0, 0, 1 } })
  -- documented identities: A = B B^T - D_v and L = D + D_v - B B^T
  local Bd = B:to_dense()
  local BBt = T.matmul(Bd, Bd:t())
  local Dv = sparse.diag(Bd:sum(2)):to_dense()
  same(h:adjacency():to_dense(), BBt - Dv)
  local D = sparse.diag(h:degree()):to_dense()
  same(h:laplacian():to_dense(), D + Dv - BBt)
  same(h:laplacian():matmul(T.ones(5)), T.zeros(5))
  -- a 2-uniform hypergraph is a graph: the ordinary Laplacian
  local ring = graph.hypergraph { { 1, 2 }, { 2, 3 }, { 3, 1 } }
  same(ring:laplacian():to_dense(), graph.lattice { dims = { 3 } }:laplacian():to_dense())
end)

test("adjacency_handles_are_independent", function()
  local g = graph.lattice { dims = { 4 } }
  local A = g:adjacency()
  A:free()
  eq(g:adjacency():nnz(), 8, "the graph keeps its matrix")
  same(g:degree(), { 2, 2, 2, 2 })
end)

test("from_edges", function()
  local g = graph.from_edges(3, { { 1, 2 }, { 2, 3 }, { 1, 2 } }, { 1, 2, 0.5 })
  same(g:adjacency():to_dense(), { { 0, 1.5, 0 }, { 1.5, 0, 2 }, { 0, 2, 0 } })
  same(g:degree(), { 1.5, 3.5, 2 })
end)

test("errors", function()
  raises(function() graph.lattice {} end, "graph.lattice: dims must be a non-empty list of side lengths, got nil")
  raises(function() graph.lattice { dims = { 0 } } end, "dims[1] must be an integer >= 1")
  raises(function() graph.lattice { dims = { 3 }, neighbors = "far" } end, "neighbors must be")
  raises(function() graph.random_regular(5, 3) end, "no simple 3-regular graph on 5 vertices")
  raises(function() graph.random_regular(4, 4) end, "need d < n")
  raises(function() graph.small_world(10, 3, 0.1) end, "k must be even")
  raises(function() graph.small_world(10, 2, 1.5) end, "p must be a probability")
  raises(function() graph.hypergraph { { 1, 1 } } end, "hyperedge 1 lists vertex 1 twice")
  raises(function() graph.hypergraph({ { 1, 4 } }, { n = 3 }) end, "hyperedge 1 has vertex 4 outside 1..3")
  raises(function() graph.from_edges(2, { { 1, 3 } }) end, "edge 1 has vertex 3 outside 1..2")
end)

test("docstrings", function()
  check.truthy(hebb.doc(graph), "module doc")
  for _, name in ipairs { "lattice", "random_regular", "small_world", "hypergraph", "from_edges" } do
    local d = hebb.doc(graph[name])
    check.truthy(d and d:find("^graph%." .. name), name .. " has a docstring")
  end
end)

test("huge_lattice_is_refused", function()
  check.raises(function() return graph.lattice{dims = {1 << 31, 1 << 31}} end,
               "graph.lattice: dims {2147483648, 2147483648} make more than 2^56 sites")
end)

check.done()
