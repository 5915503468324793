-- graph.lua -- the module `hebb.graph`: graphs of neurons (hypercubic
-- lattices, random regular graphs, small-world graphs, hypergraphs) with
-- their adjacency and Laplacian as sparse matrices (hebb.sparse).
--
-- A graph holds its adjacency matrix, built once from a symmetric list of
-- directed entries (i, j, w), one per direction of every edge; sparse.csr
-- sums repeated entries, which is what makes a periodic chain of length 2
-- (both neighbours the same site) come out with the right spectrum.
-- Lattices are built in C (sparse.lattice); the other builders are plain
-- Lua, run once per experiment.
local E = require "hebb._error"
local T = require "hebb.tensor"
local sparse = require "hebb.sparse"
local doc = require("hebb").doc

local M = {}
doc(M, "hebb.graph\n\nGraphs of neurons as sparse matrices: d-dimensional "
  .. "hypercubic lattices, random regular graphs, small-world graphs, graphs "
  .. "from edge lists and hypergraphs.  Each builder returns a graph g with "
  .. "g.n vertices and the methods g:adjacency() (sparse A, symmetric), "
  .. "g:degree() (f64 tensor of the row sums of A), g:laplacian() (sparse "
  .. "L = D - A: rows sum to zero, eigenvalues >= 0) and g:edges() (list of "
  .. "{i, j}, i <= j).  Vertices are numbered 1..n.")

local floor = math.floor

-- --- the graph object -----------------------------------------------------

local Graph = {}
Graph.__index = Graph

local function new_graph(n, r, c, w)
  return setmetatable({ n = n, _A = sparse.csr(r, c, w, { n, n }) }, Graph)
end

-- adds the edge i -- j (weight w) in both directions
local function add_edge(r, c, w, i, j, x)
  local k = #r
  r[k + 1], c[k + 1], w[k + 1] = i, j, x
  r[k + 2], c[k + 2], w[k + 2] = j, i, x
end

-- a handle of its own on the (immutable) matrix: a caller that frees it,
-- or closes it with <close>, leaves the graph's intact
function Graph:adjacency()
  return self._A:share()
end

function Graph:degree()
  return self._A:matmul(T.ones(self.n))
end

function Graph:laplacian()
  return sparse.diag(self:degree()) - self._A
end

-- the stored entries with i <= j: each edge once
function Graph:edges()
  local r, c = self._A:triplets()
  r, c = r:totable(), c:totable()
  local out = {}
  for k = 1, #r do
    if r[k] <= c[k] then out[#out + 1] = { r[k], c[k] } end
  end
  return out
end

function Graph:__tostring()
  local A = self._A
  return string.format("graph with %d vertices and %d edges", self.n,
                       (A:nnz() + A:diagonal():ne(0):sum()) // 2)
end

-- --- option helpers -----------------------------------------------------------

-- the builders written in Lua keep a Lua table per vertex: at most 2^31 - 1
local MAX_VERTICES = 0x7fffffff

local seed_keys = { seed = true }

-- the seed of opts (a table with at most the key seed)
local function seed_of(who, opts)
  opts = E.checkopts(who, opts, seed_keys)
  return opts.seed ~= nil and E.int(who, "seed", opts.seed) or nil
end

-- a source of uniform numbers in [0, 1) from a seeded generator, drawn in
-- batches (the sequence depends only on the seed)
local function uniforms(seed)
  local g = T.Generator(seed or 0)
  local buf, pos = {}, 1
  return function()
    if pos > #buf then buf, pos = g:rand(4096):totable(), 1 end
    pos = pos + 1
    return buf[pos - 1]
  end
end

-- --- lattices -----------------------------------------------------------------

local lattice_keys = { dims = true, neighbors = true, periodic = true }

function M.lattice(opts)
  local who = "graph.lattice"
  if type(opts) ~= "table" then
    E.raise("%s: expected {dims = {L1, L2, ...}}, got %s", who, E.show(opts))
  end
  E.checkopts(who, opts, lattice_keys)
  if type(opts.dims) ~= "table" or #opts.dims == 0 then
    E.raise("%s: dims must be a non-empty list of side lengths, got %s", who,
            type(opts.dims) == "table" and "an empty table" or E.show(opts.dims))
  end
  local n = 1
  for k, L in ipairs(opts.dims) do
    L = E.int(who, "dims[" .. k .. "]", L, 1)
    if n > (1 << 56) // L then   -- hebb's bound on any element count
      E.raise("%s: dims {%s} make more than 2^56 sites", who, table.concat(opts.dims, ", "))
    end
    n = n * L
  end
  local kind = opts.neighbors or "nearest"
  if kind ~= "nearest" and kind ~= "next-nearest" then
    E.raise("%s: neighbors must be \"nearest\" or \"next-nearest\", got %s", who,
            E.show(kind))
  end
  local periodic = E.check(who, "periodic", opts.periodic, "boolean", true) ~= false
  local A = sparse.lattice(opts.dims, { periodic = periodic, neighbors = kind })
  return setmetatable({ n = n, _A = A, dims = opts.dims, periodic = periodic }, Graph)
end
doc(M.lattice, "graph.lattice{dims = {L1, ..., Ld} [, periodic = true] [, "
  .. "neighbors = \"nearest\"]}\n\nThe d-dimensional hypercubic lattice: "
  .. "site (x1, ..., xd), 0 <= xk < Lk, is vertex 1 + sum xk * (L(k+1) ... Ld) "
  .. "(the last coordinate runs fastest, as in a field tensor of shape dims "
  .. "flattened).  neighbors = \"nearest\" joins sites one step apart along an "
  .. "axis (degree 2d when periodic); \"next-nearest\" adds the diagonal "
  .. "neighbours +-e_i +-e_j (degree 2d + 2d(d-1)).  periodic = false leaves "
  .. "the boundary sites with fewer neighbours.  With L = 2 and periodic "
  .. "boundaries both neighbours along an axis are the same site and the "
  .. "bond counts twice, so the Laplacian keeps the exact spectrum "
  .. "4 sum sin^2(k/2).  Fields: g.n, g.dims, g.periodic.")

-- --- random regular graphs ------------------------------------------------------

-- One attempt at pairing the n*d stubs: pick two random stubs, keep the
-- pair unless it makes a self-loop or a repeated edge; give up (nil) when
-- no acceptable pair turns up.
local function pair_stubs(n, d, u01)
  local stubs, m = {}, 0
  for v = 1, n do
    for _ = 1, d do m = m + 1; stubs[m] = v end
  end
  local adj, r, c, w = {}, {}, {}, {}
  for v = 1, n do adj[v] = {} end
  while m > 0 do
    local done = false
    for _ = 1, 20 * m + 100 do
      local a, b = 1 + floor(u01() * m), 1 + floor(u01() * m)
      local u, v = stubs[a], stubs[b]
      if u ~= v and not adj[u][v] then
        adj[u][v], adj[v][u] = true, true
        add_edge(r, c, w, u, v, 1)
        if a < b then a, b = b, a end   -- remove the later slot first
        stubs[a] = stubs[m]; m = m - 1
        stubs[b] = stubs[m]; m = m - 1
        done = true
        break
      end
    end
    if not done then return nil end
  end
  return r, c, w
end

function M.random_regular(n, d, opts)
  local who = "graph.random_regular"
  n = E.int(who, "n", n, 1, MAX_VERTICES)
  d = E.int(who, "d", d, 0)
  if d >= n or (n * d) % 2 ~= 0 then
    E.raise("graph.random_regular: no simple %d-regular graph on %d "
                        .. "vertices (need d < n and n*d even)", d, n)
  end
  local u01 = uniforms(seed_of(who, opts))
  for _ = 1, 1000 do
    local r, c, w = pair_stubs(n, d, u01)
    if r then return new_graph(n, r, c, w) end
  end
  E.raise("graph.random_regular: no pairing found for n = %d, d = %d "
                      .. "after 1000 attempts", n, d)
end
doc(M.random_regular, "graph.random_regular(n, d [, {seed = s}])\n\nA random "
  .. "simple d-regular graph on n vertices (n*d even, d < n): the d stubs of "
  .. "every vertex are paired at random, rejecting pairs that would make a "
  .. "self-loop or a repeated edge, and starting over when the last stubs "
  .. "cannot be paired.  The graph depends only on the seed (default 0), "
  .. "through hebb's counter-based generator.")

-- --- small-world graphs -------------------------------------------------------------

function M.small_world(n, k, p, opts)
  local who = "graph.small_world"
  n = E.int(who, "n", n, 1, MAX_VERTICES)
  k = E.int(who, "k", k, 0)
  if k % 2 ~= 0 or k >= n then
    E.raise("%s: k must be even and < n, got k = %d, n = %d", who, k, n)
  end
  if type(p) ~= "number" or not (p >= 0 and p <= 1) then
    E.raise("%s: p must be a probability in [0, 1], got %s", who, E.show(p))
  end
  local u01 = uniforms(seed_of(who, opts))
  local adj, deg, src, dst = {}, {}, {}, {}
  for v = 1, n do adj[v], deg[v] = {}, 0 end
  for j = 1, k // 2 do   -- the ring lattice: each vertex to its k nearest
    for i = 1, n do
      local v = (i - 1 + j) % n + 1
      adj[i][v], adj[v][i] = true, true
      deg[i], deg[v] = deg[i] + 1, deg[v] + 1
      src[#src + 1], dst[#dst + 1] = i, v
    end
  end
  -- Watts-Strogatz: each edge (i, i + j) keeps i and, with probability p,
  -- moves its other end to a uniform vertex that is neither i nor already
  -- a neighbour of i
  for e = 1, #src do
    local i, v = src[e], dst[e]
    if u01() < p and deg[i] < n - 1 then
      local t
      repeat t = 1 + floor(u01() * n) until t ~= i and not adj[i][t]
      adj[i][v], adj[v][i] = nil, nil
      adj[i][t], adj[t][i] = true, true
      deg[v], deg[t] = deg[v] - 1, deg[t] + 1
      dst[e] = t
    end
  end
  local r, c, w = {}, {}, {}
  for e = 1, #src do add_edge(r, c, w, src[e], dst[e], 1) end
  return new_graph(n, r, c, w)
end
doc(M.small_world, "graph.small_world(n, k, p [, {seed = s}])\n\nA "
  .. "Watts-Strogatz small-world graph: the ring of n vertices each joined to "
  .. "its k nearest (k even), then every edge (i, i+j) is rewired with "
  .. "probability p to (i, t), t uniform among the vertices not yet joined to "
  .. "i.  p = 0 is the ring lattice, p = 1 close to a random graph; the "
  .. "number of edges stays n*k/2.  Deterministic given the seed (default 0).")

-- --- graphs from edge lists ---------------------------------------------------------

function M.from_edges(n, edges, weights)
  local who = "graph.from_edges"
  n = E.int(who, "n", n, 0)
  E.check(who, "edges", edges, "table")
  E.check(who, "weights", weights, "table", true)
  local r, c, w = {}, {}, {}
  for e, ij in ipairs(edges) do
    E.check(who, "edges[" .. e .. "]", ij, "table")
    local i, j = ij[1], ij[2]
    for _, v in ipairs { i, j } do
      if math.type(v) ~= "integer" or v < 1 or v > n then
        E.raise("%s: edge %d has vertex %s outside 1..%d", who, e, E.show(v), n)
      end
    end
    local x = weights and E.num(who, "weights[" .. e .. "]", weights[e]) or 1
    if i == j then
      local m = #r + 1
      r[m], c[m], w[m] = i, i, x
    else
      add_edge(r, c, w, i, j, x)
    end
  end
  return new_graph(n, r, c, w)
end
doc(M.from_edges, "graph.from_edges(n, edges [, weights])\n\nThe undirected "
  .. "graph on n vertices with the edges {i, j} of the list (weights[e], "
  .. "default 1, on edge e); repeated edges add their weights.")

-- --- hypergraphs --------------------------------------------------------------------

local Hypergraph = setmetatable({}, { __index = Graph })
Hypergraph.__index = Hypergraph

function Hypergraph:incidence()
  local r, c = {}, {}
  for e, he in ipairs(self.hyperedges) do
    for _, v in ipairs(he) do r[#r + 1], c[#c + 1] = v, e end
  end
  return sparse.csr(r, c, 1, { self.n, self.m })
end

function Hypergraph:__tostring()
  return string.format("hypergraph with %d vertices and %d hyperedges", self.n,
                       self.m)
end

function M.hypergraph(edges, opts)
  local who = "graph.hypergraph"
  if type(edges) ~= "table" then
    E.raise("%s: expected a list of hyperedges (lists of vertices), got %s", who,
            E.show(edges))
  end
  opts = E.checkopts(who, opts, { n = true })
  for e, he in ipairs(edges) do E.check(who, "hyperedge " .. e, he, "table") end
  local n = opts.n and E.int(who, "n", opts.n, 0) or 0
  if not opts.n then
    for _, he in ipairs(edges) do
      for _, v in ipairs(he) do
        if math.type(v) == "integer" and v > n then n = v end
      end
    end
  end
  local r, c, w = {}, {}, {}
  for e, he in ipairs(edges) do
    local seen = {}
    for _, v in ipairs(he) do
      if math.type(v) ~= "integer" or v < 1 or v > n then
        E.raise("%s: hyperedge %d has vertex %s outside 1..%d", who, e, E.show(v), n)
      end
      if seen[v] then
        E.raise("graph.hypergraph: hyperedge %d lists vertex %d "
                            .. "twice", e, v)
      end
      seen[v] = true
    end
    for a = 1, #he do   -- clique expansion: every pair in the hyperedge
      for b = a + 1, #he do add_edge(r, c, w, he[a], he[b], 1) end
    end
  end
  local h = setmetatable({ n = n, _A = sparse.csr(r, c, w, { n, n }) }, Hypergraph)
  h.hyperedges, h.m = edges, #edges
  return h
end
doc(M.hypergraph, "graph.hypergraph(edges [, {n = n}])\n\nThe hypergraph "
  .. "whose hyperedges are the lists of vertices in edges (n defaults to the "
  .. "largest vertex).  h:incidence() is the sparse n x m matrix B with "
  .. "B[v][e] = 1 when v is in hyperedge e.  Its graph methods use the clique "
  .. "expansion: h:adjacency() = B B^T - D_v (A[u][v] = number of "
  .. "hyperedges holding both u and v, D_v = diag(B 1) the hyperdegrees), "
  .. "h:degree() = A 1 and h:laplacian() = D - A = D + D_v - B B^T, which is "
  .. "the ordinary Laplacian when every hyperedge has two vertices.  Fields: "
  .. "h.n, h.m, h.hyperedges.")

return M
