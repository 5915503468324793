-- data.lua -- the module `hebb.data`: datasets for training.  The IDX
-- reader (MNIST's format, plain or gzip-compressed, natives/core/idx.c),
-- Fashion-MNIST from Debian's dataset-fashion-mnist package, and a
-- mini-batch loader with seeded shuffling.
--
-- A loader draws each epoch's permutation from its own generator,
-- T.Generator(seed, epoch): runs repeat exactly, an epoch can be replayed
-- on its own, and the global random stream (model initialization, dropout)
-- is not disturbed by how many epochs were run.  Batches are cut out in C
-- (index_select of a slice of the permutation), never in Lua loops.
local E = require "hebb._error"
local T = require "hebb.tensor"
local C = require "hebb._data"
local doc = require("hebb").doc

local M = {}
doc(M, "hebb.data\n\nDatasets for training: the IDX reader (plain or gzip), "
  .. "Fashion-MNIST from Debian's dataset-fashion-mnist package, Dataset and "
  .. "DataLoader (mini-batches with seeded, reproducible shuffling).  See "
  .. "docs/data.md.")

local is_tensor = T.is_tensor
local fmt = string.format

-- --- IDX files -------------------------------------------------------------

-- C.read_idx, with its errors pointing at the user's line rather than at
-- this file
local function read(path, opts)
  local ok, t = pcall(C.read_idx, path, opts)
  if ok then return t end
  E.raise(E.bare(t))
end

function M.read_idx(path, opts)
  E.check("data.read_idx", "path", path, "string")
  if opts ~= nil and type(opts) ~= "table" and type(opts) ~= "string" then
    E.raise("data.read_idx: options must be a table or a dtype name, got %s",
            E.show(opts))
  end
  if type(opts) == "table" then E.checkopts("data.read_idx", opts, { dtype = true }) end
  return read(path, opts)
end
doc(M.read_idx, "data.read_idx(path [, {dtype=}])\n\nThe IDX file at path (the "
  .. "format of MNIST: element type ubyte, sbyte, short, int, float or double, "
  .. "big-endian) as a new tensor with the file's shape, of dtype f64 "
  .. "(default), f32 or i64 (float data is truncated toward zero).  A "
  .. "gzip-compressed file (told by its first bytes, not its name) is read "
  .. "through zlib.  A missing, truncated or malformed file raises an error "
  .. "naming the file, the size its header announces and the size found.")

-- --- Fashion-MNIST ---------------------------------------------------------

local FASHION_DIR = "/usr/share/datasets/fashion-mnist"
local FASHION_PREFIX = { train = "train", test = "t10k" }

local function readable(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local fashion_keys = { dtype = true, flat = true, dir = true }

function M.fashion_mnist(split, opts)
  local who = "data.fashion_mnist"
  opts = E.checkopts(who, opts, fashion_keys)
  local prefix = FASHION_PREFIX[split]
  if not prefix then
    E.raise("%s: split must be \"train\" or \"test\", got %s", who, E.show(split))
  end
  E.check(who, "dtype", opts.dtype, "string", true)
  E.check(who, "flat", opts.flat, "boolean", true)
  local dir = E.check(who, "dir", opts.dir, "string", true)
    or os.getenv("HEBB_FASHION_MNIST") or FASHION_DIR
  local images = dir .. "/" .. prefix .. "-images-idx3-ubyte.gz"
  local labels = dir .. "/" .. prefix .. "-labels-idx1-ubyte.gz"
  for _, p in ipairs { images, labels } do
    if not readable(p) then
      E.raise("data.fashion_mnist: '%s' not found; Fashion-MNIST comes from "
                .. "the Debian package dataset-fashion-mnist: run "
                .. "`apt-get install dataset-fashion-mnist` as root", p)
    end
  end
  local dtype = opts.dtype or "f32"
  local X = read(images, dtype)
  local Y = read(labels, "i64")
  local n = X:size(1)
  if Y:size(1) ~= n then
    E.raise("data.fashion_mnist: %d images in '%s' but %d labels in '%s'",
              n, images, Y:size(1), labels)
  end
  if opts.flat ~= false then X = X:view(n, X:numel() // n) end
  X:div_(255)
  Y:add_(1)
  return X, Y
end
doc(M.fashion_mnist, "data.fashion_mnist(split [, {dtype=, flat=, dir=}])  ->  X, Y"
  .. "\n\nFashion-MNIST's \"train\" (60000) or \"test\" (10000) split: X the "
  .. "images as an (N, 784) tensor of dtype f32 (or opts.dtype) scaled to "
  .. "[0, 1] ((N, 28, 28) with flat = false), Y the labels 1..10 (i64; the "
  .. "file's 0..9 plus 1, since hebb's indices start at 1).  Reads the files "
  .. "of Debian's dataset-fashion-mnist package (dir, or $HEBB_FASHION_MNIST, "
  .. "overrides /usr/share/datasets/fashion-mnist); an error names the "
  .. "package to install when they are missing.")

-- --- Dataset ---------------------------------------------------------------

local Dataset = {}
Dataset.__index = Dataset

-- the tensors of a Dataset(...) call: a list, or the arguments themselves
local function tensor_list(who, ...)
  local ts = ...
  if select("#", ...) ~= 1 or is_tensor(ts) then ts = { ... } end
  if type(ts) ~= "table" or #ts == 0 then
    E.raise("%s: expected tensors (or a list of them), got %s", who,
            type(ts) == "table" and "an empty list" or E.show(ts))
  end
  local n
  for i, t in ipairs(ts) do
    if not is_tensor(t) then
      E.raise("%s: element %d must be a tensor, got %s", who, i, E.show(t))
    end
    if t.ndim == 0 then
      E.raise("%s: tensor %d is 0-d; samples run along dimension 1", who, i)
    end
    if n and t:size(1) ~= n then
      E.raise("%s: tensors must share their first dimension: tensor 1 has "
                .. "%d samples, tensor %d has %d", who, n, i, t:size(1))
    end
    n = n or t:size(1)
  end
  return ts, n
end

function M.Dataset(...)
  local ts, n = tensor_list("data.Dataset", ...)
  return setmetatable({ tensors = ts, n = n }, Dataset)
end
doc(M.Dataset, "data.Dataset(t1, t2, ...)  or  data.Dataset{t1, t2, ...}\n\n"
  .. "Tensors whose first dimension runs over the same samples (an error "
  .. "names the sizes when they differ).  #ds is the number of samples, "
  .. "ds:get(i) returns sample i of every tensor (views), ds.tensors the list.")

function Dataset:__len() return self.n end

-- sample i (1-based, negative from the end) of every tensor, as views
function Dataset:get(i)
  local n = self.n
  i = E.int("Dataset:get", "index", i)
  if i == 0 or i > n or i < -n then
    E.raise("Dataset:get: index %s out of range 1..%d (or -%d..-1)", E.show(i), n, n)
  end
  if i < 0 then i = n + 1 + i end
  local out = {}
  for k, t in ipairs(self.tensors) do out[k] = t:narrow(1, i, 1):squeeze(1) end
  return table.unpack(out)
end
doc(Dataset.get, "ds:get(i)\n\nSample i (1-based, negative from the end) of "
  .. "every tensor of the dataset, as views of their rows.")

function Dataset:__tostring()
  local parts = {}
  for k, t in ipairs(self.tensors) do
    parts[k] = t.dtype .. " {" .. table.concat(t.shape, ",") .. "}"
  end
  return fmt("Dataset(%d samples: %s)", self.n, table.concat(parts, ", "))
end

-- --- DataLoader ------------------------------------------------------------

local DataLoader = {}
DataLoader.__index = DataLoader

local loader_keys = { batch_size = true, shuffle = true, seed = true, drop_last = true }

function M.DataLoader(dataset, opts)
  local who = "data.DataLoader"
  opts = E.checkopts(who, opts, loader_keys)
  local ts, n
  if getmetatable(dataset) == Dataset then
    ts, n = dataset.tensors, dataset.n
  else
    ts, n = tensor_list("data.DataLoader", dataset)
  end
  local self = setmetatable({
    tensors = ts,
    n = n,
    batch_size = E.int(who, "batch_size", opts.batch_size or 64, 1),
    seed = E.int(who, "seed", opts.seed or 0),
    shuffle = E.check(who, "shuffle", opts.shuffle, "boolean", true) ~= false,
    drop_last = E.check(who, "drop_last", opts.drop_last, "boolean", true) == true,
    epoch = 0,   -- epochs started so far
  }, DataLoader)
  return self
end
doc(M.DataLoader, "data.DataLoader(dataset [, {batch_size=64, shuffle=true, "
  .. "seed=0, drop_last=false}])\n\nMini-batches of a Dataset or of a list "
  .. "of tensors {X, Y, ...}: `for xb, yb in loader:batches() do ... end` "
  .. "visits every sample exactly once; each call of batches() is the next "
  .. "epoch (loader:batches(e) replays epoch e).  With shuffle, epoch e uses "
  .. "the permutation T.Generator(seed, e):randperm(n), so runs repeat "
  .. "exactly and the global generator is untouched; batches are then new "
  .. "tensors gathered with index_select.  Without shuffle they are views "
  .. "(narrow) of the data, in order.  The last batch is smaller when "
  .. "batch_size does not divide n, unless drop_last drops it.  #loader is "
  .. "the number of batches per epoch; loader:permutation(e) the order of "
  .. "epoch e.")

function DataLoader:__len()
  local n, b = self.n, self.batch_size
  if self.drop_last then return n // b end
  return (n + b - 1) // b
end

-- the permutation of epoch e (i64, 1-based): the same for the same (seed, e)
function DataLoader:permutation(e)
  E.int("DataLoader:permutation", "epoch", e, 1)
  return T.Generator(self.seed, e):randperm(self.n)
end
doc(DataLoader.permutation, "loader:permutation(epoch)\n\nThe order (i64, "
  .. "1-based sample numbers) in which a shuffling loader visits the samples "
  .. "in that epoch: T.Generator(seed, epoch):randperm(n).")

function DataLoader:batches(epoch)
  if epoch ~= nil then epoch = E.int("DataLoader:batches", "epoch", epoch, 1) end
  if epoch == nil then
    self.epoch = self.epoch + 1
    epoch = self.epoch
  end
  local ts, n, b = self.tensors, self.n, self.batch_size
  local nb, k = #self, 0
  local perm = self.shuffle and self:permutation(epoch) or nil
  local out = {}
  return function()
    if k >= nb then return nil end
    local start = k * b + 1
    local len = math.min(b, n - start + 1)
    k = k + 1
    if perm then
      local idx = perm:narrow(1, start, len)
      for i, t in ipairs(ts) do out[i] = t:index_select(1, idx) end
    else
      for i, t in ipairs(ts) do out[i] = t:narrow(1, start, len) end
    end
    return table.unpack(out, 1, #ts)
  end
end
doc(DataLoader.batches, "loader:batches([epoch])\n\nAn iterator over one "
  .. "epoch's mini-batches, each returned as one tensor per dataset tensor "
  .. "(`for xb, yb in loader:batches() do`).  Without epoch: the next epoch "
  .. "(loader.epoch counts them); with it, that epoch again, the same batches.")

function DataLoader:__tostring()
  return fmt("DataLoader(%d samples, batch_size=%d, %d batches, shuffle=%s, "
             .. "seed=%d, drop_last=%s)", self.n, self.batch_size, #self,
             tostring(self.shuffle), self.seed, tostring(self.drop_last))
end

return M
