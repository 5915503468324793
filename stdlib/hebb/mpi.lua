-- hebb.mpi: MPI over Debian's OpenMPI.
--
-- `mpirun -np 4 hebb x.lua` starts four copies of x.lua; require "hebb.mpi"
-- joins them into one world (libmpi is loaded only in a process a launcher
-- started; anywhere else hebb.mpi is a world of one rank, where collectives
-- copy, so a script runs unchanged without mpirun).  Ranks are numbered
-- 0..size-1 as in MPI, mpirun and Slurm.
--
-- Tensors move as raw elements (every dtype), in place where MPI works in
-- place; any other value (tables, numbers, strings, tensors inside tables)
-- moves in hebb's checkpoint format (io.encode).  Before a collective on
-- tensors the ranks compare dtypes and shapes, so a mismatch is an error
-- on every rank, naming each rank's tensor, instead of a hang or garbage.
-- MPI's own errors come back as Lua errors naming the call
-- (MPI_ERRORS_RETURN); an uncaught error on one rank ends every rank
-- (MPI_Abort, called by the hebb executable as it exits).
local C = require "hebb._mpi"
local T = require "hebb.tensor"
local hio = require "hebb.io"
local E = require "hebb._error"
local doc = require("hebb").doc

local M = {}
local fmt = string.format
local is_tensor = T.is_tensor

M.ANY = -1

local Comm = {}
Comm.__index = Comm
M.Comm = Comm

local function wrap(c) return setmetatable({ _c = c }, Comm) end

-- calls a C method; its error is raised again at the user's line, named
local function call(who, f, ...)
  local ok, a, b, c, d = pcall(f, ...)
  if ok then return a, b, c, d end
  E.raise("%s: %s", who, (tostring(a):gsub("^mpi: ", "")))
end

-- a value in io.encode's format; its error names the mpi call
local function encode(who, v)
  local ok, s = pcall(hio.encode, v)
  if ok then return s end
  E.raise("%s: %s", who, (tostring(s):gsub("^.-io%.encode", "io.encode")))
end

function Comm:rank() return self._c:rank() end
function Comm:size() return self._c:size() end

local function check_root(who, self, root)
  if root == nil then return 0 end
  return E.int(who, "root", root, 0, self._c:size() - 1)
end

local function check_rank(who, self, what, r, any)
  if any and (r == nil or r == M.ANY) then return M.ANY end
  return E.int(who, what, r, 0, self._c:size() - 1)
end

local function check_tag(who, tag, any)
  if any and (tag == nil or tag == M.ANY) then return M.ANY end
  if tag == nil then return 0 end
  return E.int(who, "tag", tag, 0, 32767)
end

-- a description of v that ranks compare before a collective
local function signature(v)
  if is_tensor(v) then return fmt("%s tensor of shape {%s}", v.dtype, table.concat(v.shape, ", ")) end
  if v == nil then return "nil" end
  return "a " .. type(v)
end

-- every rank's signature; raises on every rank when ok(sigs) is false
local function agree(who, self, v, ok, what)
  local sigs = call(who, self._c.gather_s, self._c, signature(v))
  if ok(sigs) then return sigs end
  local parts = {}
  for r, s in ipairs(sigs) do parts[r] = fmt("rank %d has %s", r - 1, s) end
  E.raise("%s: %s differ across ranks: %s", who, what, table.concat(parts, ", "))
end

local function all_same(sigs)
  for r = 2, #sigs do if sigs[r] ~= sigs[1] then return false end end
  return true
end

function Comm:barrier() call("mpi.barrier", self._c.barrier, self._c) end

-- bcast: a tensor in place (a rank may give nil to receive a new one), or
-- any other value, root's on every rank
function Comm:bcast(v, root)
  local who = "mpi.bcast"
  root = check_root(who, self, root)
  local sigs = agree(who, self, v, function(s)
    local r = s[root + 1]
    if not r:find(" tensor ", 1, true) then return true end
    for _, x in ipairs(s) do if x ~= r and x ~= "nil" then return false end end
    return true
  end, "the tensors")
  local rs = sigs[root + 1]
  if not rs:find(" tensor ", 1, true) then
    if rs == "nil" then return nil end
    local s = call(who, self._c.bcast_s, self._c, self._c:rank() == root and encode(who, v) or nil, root)
    return hio.decode(s, { max_bytes = math.huge })
  end
  if v == nil then
    local dtype, dims = rs:match("^(%w+) tensor of shape {(.*)}$")
    local shape = {}
    for d in dims:gmatch("%d+") do shape[#shape + 1] = tonumber(d) end
    v = T.empty(shape, { dtype = dtype })
  end
  return call(who, self._c.bcast_t, self._c, v, root)
end

local OPS = { sum = 0, prod = 1, max = 2, min = 3, land = 4, lor = 5 }
local OPS_LIST = "sum, prod, max, min, land, lor"

-- MPI defines each reduction for some kinds of element only
local function check_op(who, op, dtype)
  op = op or "sum"
  if OPS[op] == nil then E.raise("%s: op must be one of %s, got %s", who, OPS_LIST, E.show(op)) end
  local ok
  if dtype == "bool" then ok = op == "land" or op == "lor"
  elseif dtype == "c128" or dtype == "c64" then ok = op == "sum" or op == "prod"
  elseif dtype == "i64" then ok = true
  else ok = op ~= "land" and op ~= "lor" end
  if not ok then E.raise("%s: op '%s' is not defined for %s tensors", who, op, dtype) end
  return op
end

-- a number as a one-element tensor (i64 for integers)
local function as_tensor(who, v)
  if is_tensor(v) then return v, false end
  if type(v) == "number" then
    return T.tensor({ v }, { dtype = math.type(v) == "integer" and "i64" or "f64" }), true
  end
  E.raise("%s: expected a tensor or a number, got %s", who, E.show(v))
end

local FOLD = {
  sum = function(a, b) return a + b end,
  prod = function(a, b) return a * b end,
  max = function(a, b) return T.maximum(a, b) end,
  min = function(a, b) return T.minimum(a, b) end,
  land = function(a, b) return T.logical_and(a, b) end,
  lor = function(a, b) return T.logical_or(a, b) end,
}

-- the ranks' tensors combined left to right in rank order, on every rank
local function ordered(self, t, op)
  local rows = call("mpi.allreduce", self._c.gather_t, self._c, t:reshape(1, t:numel()))
  local acc = rows[1]
  for r = 2, rows.shape[1] do acc = FOLD[op](acc, rows[r]) end
  t:copy_(acc:reshape(t.shape))
  return t
end

local function reduce(self, who, v, op, root, opts)
  opts = E.checkopts(who, opts, { ordered = true })
  local t, scalar = as_tensor(who, v)
  op = check_op(who, op, t.dtype)
  agree(who, self, t, all_same, "the tensors")
  if opts.ordered then ordered(self, t, op)
  else call(who, self._c.reduce_t, self._c, t, OPS[op], root) end
  if scalar then return t[1] end
  return t
end

function Comm:allreduce(v, op, opts)
  return reduce(self, "mpi.allreduce", v, op, -1, opts)
end

function Comm:reduce(v, op, root)
  return reduce(self, "mpi.reduce", v, op, check_root("mpi.reduce", self, root))
end

-- gather and allgather: a list of every rank's value, or with cat = true
-- the ranks' tensors concatenated along the first dimension
local function gather(self, who, v, root, opts)
  opts = E.checkopts(who, opts, { cat = true })
  if opts.cat then
    if not is_tensor(v) then E.raise("%s: cat = true needs a tensor, got %s", who, E.show(v)) end
    local tail = function(s) return (s:gsub("{%d+", "{*")) end
    agree(who, self, v, function(s)
      for r = 2, #s do if tail(s[r]) ~= tail(s[1]) then return false end end
      return true
    end, "the dtypes and trailing shapes")
    return call(who, self._c.gather_t, self._c, v, root)
  end
  local list = call(who, self._c.gather_s, self._c, encode(who, v), root)
  if not list then return nil end
  for i, s in ipairs(list) do list[i] = hio.decode(s, { max_bytes = math.huge }) end
  return list
end

function Comm:gather(v, root, opts)
  return gather(self, "mpi.gather", v, check_root("mpi.gather", self, root), opts)
end

function Comm:allgather(v, opts)
  return gather(self, "mpi.allgather", v, nil, opts)
end

function Comm:scatter(list, root)
  local who = "mpi.scatter"
  root = check_root(who, self, root)
  local n = self._c:size()
  local send
  if self._c:rank() == root then
    if type(list) ~= "table" or is_tensor(list) or #list ~= n then
      E.raise("%s: root needs a list of %d values (one per rank), got %s", who, n,
              type(list) == "table" and not is_tensor(list) and fmt("a list of %d", #list) or E.show(list))
    end
    send = {}
    for i = 1, n do send[i] = encode(who, list[i]) end
  end
  return hio.decode(call(who, self._c.scatter_s, self._c, send, root), { max_bytes = math.huge })
end

function Comm:send(v, dest, tag)
  local who = "mpi.send"
  dest = check_rank(who, self, "dest", dest)
  tag = check_tag(who, tag)
  if dest == self._c:rank() then
    E.raise("%s: rank %d sending to itself would wait forever; keep the value instead", who, dest)
  end
  call(who, self._c.send_s, self._c, encode(who, v), dest, tag)
end

function Comm:recv(src, tag)
  local who = "mpi.recv"
  src = check_rank(who, self, "src", src, true)
  tag = check_tag(who, tag, true)
  local s, from, t = call(who, self._c.recv_s, self._c, src, tag)
  return hio.decode(s, { max_bytes = math.huge }), from, t
end

function Comm:iprobe(src, tag)
  local who = "mpi.iprobe"
  src = check_rank(who, self, "src", src, true)
  tag = check_tag(who, tag, true)
  local found, from, t = call(who, self._c.probe, self._c, src, tag, false)
  return found, from, t
end

function Comm:split(color, key)
  local who = "mpi.split"
  if color ~= nil then color = E.int(who, "color", color, 0, (1 << 30) - 1) end
  key = key == nil and self._c:rank() or E.int(who, "key", key, 1 - (1 << 30), (1 << 30) - 1)
  local c = call(who, self._c.split, self._c, color or -1, key)
  return c and wrap(c) or nil
end

function Comm:dup() return wrap(call("mpi.dup", self._c.dup, self._c)) end
function Comm:free() self._c:free() end

-- --- the module: the world's methods, documented -----------------------------

local world = wrap(call("hebb.mpi", C.init))
M.world = world

local DOCS = {
  rank = "mpi.rank()\n\nThis process's rank in the world, 0..size-1 (comm:rank() "
    .. "for a communicator).",
  size = "mpi.size()\n\nThe number of ranks: 1 without mpirun.",
  barrier = "mpi.barrier()\n\nWaits until every rank has called it.",
  bcast = "mpi.bcast(v [, root])\n\nroot's (default 0) value on every rank.  A tensor "
    .. "is sent in place into the tensors the other ranks give (of the same dtype and "
    .. "shape: checked), or into a new one where a rank gives nil.  Any other value "
    .. "(tables, numbers, strings, tensors inside tables) is sent in io.encode's format "
    .. "and returned.",
  allreduce = "mpi.allreduce(t [, op [, {ordered = true}]])\n\nCombines the tensors (or "
    .. "numbers) of every rank with op (\"sum\" by default, \"prod\", \"max\", \"min\"; "
    .. "\"land\", \"lor\" for bool and i64) and writes the result into t on every rank, "
    .. "in place; returns t (or the number).  dtypes and shapes must agree (checked).  "
    .. "MPI's own algorithm may group the sum differently for different rank counts; "
    .. "with ordered = true the values are combined left to right in rank order "
    .. "(gathered, then folded), so the bits depend only on the values.",
  reduce = "mpi.reduce(t [, op [, root]])\n\nAs allreduce, with the result in t on root "
    .. "only (the other ranks' t are unchanged).",
  gather = "mpi.gather(v [, root [, {cat = true}]])\n\nOn root, the list of every rank's "
    .. "value (rank r at r+1); nil elsewhere.  With cat = true, tensors are "
    .. "concatenated along their first dimension instead (sizes may differ, the rest "
    .. "of the shape and the dtype must agree; a 0-d tensor is one row).",
  allgather = "mpi.allgather(v [, {cat = true}])\n\nAs gather, on every rank.",
  scatter = "mpi.scatter(list [, root])\n\nElement r+1 of root's list (one value per "
    .. "rank) on rank r; the other ranks' list is ignored.",
  send = "mpi.send(v, dest [, tag])\n\nSends any value (tensors keep dtype, shape and "
    .. "bits) to rank dest with tag 0..32767 (default 0).  Blocks until the message is "
    .. "on its way.",
  recv = "mpi.recv([src [, tag]])\n\nWaits for a message from src with tag (mpi.ANY or "
    .. "nil: any) and returns its value, the sender's rank and the tag.",
  iprobe = "mpi.iprobe([src [, tag]])\n\nWhether a message from src with tag is waiting "
    .. "(and then its source and tag), without receiving it.",
  split = "mpi.split(color [, key])\n\nA communicator of the ranks that give the same "
    .. "color (an integer >= 0), ordered by key (default: the rank), or nil for a rank "
    .. "giving color nil.  Every rank must call it.  Its methods are the module's "
    .. "(comm:rank(), comm:allreduce(t) ...); comm:free() releases it.",
  dup = "mpi.dup()\n\nA new communicator with the same ranks, whose messages never "
    .. "meet the world's.",
}

for name, text in pairs(DOCS) do
  M[name] = function(...) return world[name](world, ...) end
  doc(M[name], text)
end

function M.abort(code)
  code = code == nil and 1 or E.int("mpi.abort", "code", code, 0, 255)
  if not C.active() then
    io.stdout:flush()
    os.exit(code)   -- a world of one rank: this process is all of it
  end
  C.abort(code)
end
doc(M.abort, "mpi.abort([code])\n\nEnds every rank at once with exit status code "
  .. "(default 1): what to do when one rank cannot go on.")

function M.wtime() return C.wtime() end
doc(M.wtime, "mpi.wtime()\n\nSeconds on a wall clock (MPI_Wtime), for timing.")

function M.launched() return C.launched() end
doc(M.launched, "mpi.launched()\n\nWhether mpirun or srun started this process "
  .. "(OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_RANK is set); only then is libmpi "
  .. "loaded.")

-- os.exit skips the state's closing, where MPI is finalized: finalize for a
-- success, abort every rank for a failure
if C.active() then
  local exit = os.exit
  os.exit = function(code, close)   -- luacheck: ignore
    if code == nil or code == true or code == 0 then pcall(C.finalize) else C.abort(code == false and 1 or code) end
    return exit(code, close)
  end
end

require("hebb._mpi_parallel")(M)

doc(M, "hebb.mpi\n\nMPI over Debian's OpenMPI: rank/size, barrier, bcast, reduce and "
  .. "allreduce (in place, every dtype), gather/allgather/scatter, send/recv, split "
  .. "communicators; data-parallel training with a fixed reduction order "
  .. "(mpi.DataParallel), ensembles (mpi.ensemble) and replica exchange "
  .. "(mpi.replica_exchange) that give the same bits on any number of ranks; sweeps "
  .. "spread over ranks.  Without mpirun: a world of one rank.  See docs/mpi.md.")

return M
