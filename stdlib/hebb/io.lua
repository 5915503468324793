-- hebb.io: data files that are safe to load and safe to save.
--
-- Checkpoints (io.save/io.load, io.encode/io.decode) hold a Lua value made
-- of tables, numbers, strings, booleans and tensors in hebb's own format:
-- data only, nothing in a file is ever run.  The format is described byte
-- by byte in docs/io.md; the parsing and every check of a file happen in C
-- (natives/core/io_ckpt.c), this file only walks the value being saved.
-- Saves are atomic: a temporary file beside the target, renamed over it
-- once complete, so a crash leaves the old file or the new one.
local T = require "hebb.tensor"
local C = require "hebb._io"
local E = require "hebb._error"
local doc = require("hebb").doc

local M = {}
local is_tensor, rawlen, rawget, next = T.is_tensor, rawlen, rawget, next

-- calls a C function of hebb._io; its error is raised again at the user's
-- line
local function call(f, ...)
  local ok, a, b = pcall(f, ...)
  if not ok then E.raise(tostring(a)) end
  return a, b
end

local function check_path(who, path)
  if type(path) ~= "string" then
    E.raise("%s: path must be a string, got %s", who, E.show(path))
  end
end

local function max_bytes(who, opts)
  opts = E.checkopts(who, opts, { max_bytes = true })
  local m = opts.max_bytes
  if m ~= nil and (type(m) ~= "number" or m < 0 or
                   (math.type(m) == "float" and m ~= math.huge)) then
    E.raise("%s: max_bytes must be a non-negative integer or math.huge, got %s",
            who, E.show(m))
  end
  return m
end

-- --- checkpoints: writing ---------------------------------------------------

-- keys in a fixed order, so the same value always gives the same file:
-- booleans (false first), then numbers, then strings
local RANK = { boolean = 1, number = 2, string = 3 }
local function key_less(a, b)
  local ra, rb = RANK[type(a)], RANK[type(b)]
  if ra ~= rb then return ra < rb end
  if ra == 1 then return b and not a end
  return a < b
end

-- where a value sits, for messages: value.model.weight
local function path(stack, name)
  local p = { "value" }
  for i = 2, #stack do p[#p + 1] = tostring(stack[i][6]) end
  if name ~= nil then p[#p + 1] = tostring(name) end
  return table.concat(p, ".")
end

-- whether the n keys of t are exactly 1..n
local function is_list(t, n)
  if n == 0 or rawlen(t) ~= n then return false end
  for i = 1, n do
    if rawget(t, i) == nil then return false end
  end
  return true
end

-- opens a table: its keys checked and sorted, a frame {t, keys, i, n,
-- list, name} pushed
local function open_table(w, who, t, name, stack, open)
  if open[t] then
    E.raise("%s: the table at %s contains itself", who, path(stack, name))
  end
  local keys, n = {}, 0
  for k in next, t do
    local tk = type(k)
    if not RANK[tk] then
      E.raise("%s: cannot save a %s key (in %s)", who,
              is_tensor(k) and "tensor" or tk, path(stack, name))
    end
    n = n + 1
    keys[n] = k
  end
  local list = is_list(t, n)
  if not list then table.sort(keys, key_less) end
  w:open(list and "list" or "table", n)
  open[t] = true
  stack[#stack + 1] = { t, keys, 0, n, list, name }
end

local function item(w, who, v, name, stack, open)
  local tv = type(v)
  if tv == "table" then return open_table(w, who, v, name, stack, open) end
  if tv == "userdata" and not is_tensor(v) or tv == "function" or tv == "thread" then
    E.raise("%s: cannot save a %s (at %s)", who, tv, path(stack, name))
  end
  w:put(v)
end

-- feeds value to the writer in prefix order; tables are walked with an
-- explicit stack, so nesting depth is limited by memory only
local function encode(w, who, value)
  local stack, open = {}, {}
  item(w, who, value, nil, stack, open)
  while #stack > 0 do
    local f = stack[#stack]
    local i = f[3] + 1
    if i > f[4] then
      open[f[1]] = nil
      stack[#stack] = nil
    else
      f[3] = i
      local k = f[5] and i or f[2][i]
      if not f[5] then w:put(k) end
      item(w, who, rawget(f[1], k), k, stack, open)
    end
  end
end

function M.save(path, value)
  check_path("io.save", path)
  local w <close> = C.writer()
  encode(w, "io.save", value)
  call(w.save, w, path)
end
doc(M.save, "io.save(path, value)\n\nWrites value (nested tables of numbers, "
  .. "strings, booleans and tensors: a model's and an optimizer's state_dict, "
  .. "results, a configuration) to the file path in hebb's checkpoint format "
  .. "(docs/io.md).  Tensors keep dtype, shape, strides and exact bits; numbers "
  .. "keep integer or float type (inf, NaN and -0 too); strings keep every byte.  "
  .. "The save is atomic: a temporary file in the same folder is written, "
  .. "flushed to disk and renamed over path, so a crash leaves the old file "
  .. "or the new one, and any failed write (a full disk) is an error.  A "
  .. "function, a userdata, a table key that is not a boolean, number or "
  .. "string, or a table that contains itself is an error naming where it is.")

function M.encode(value)
  local w <close> = C.writer()
  encode(w, "io.encode", value)
  return (call(w.encode, w))
end
doc(M.encode, "io.encode(value)\n\nThe bytes io.save would write for value, "
  .. "as a Lua string (for a database blob or a network message); io.decode "
  .. "reads them back.")

-- --- checkpoints: reading ---------------------------------------------------

function M.load(path, opts)
  check_path("io.load", path)
  return (call(C.load, path, max_bytes("io.load", opts)))
end
doc(M.load, "io.load(path [, {max_bytes = n}])\n\nThe value io.save wrote to "
  .. "path.  Nothing in the file is run: it is data, checked entirely (every "
  .. "size and offset against the file, the checksums, the nesting) before "
  .. "anything is built.  A load allocates at most max_bytes (default 64 MiB "
  .. "plus 16 times the file's size; math.huge: no limit).  Every error names "
  .. "the file and the byte offset of the problem.")

function M.decode(s, opts)
  if type(s) ~= "string" then
    E.raise("io.decode: expected a string, got %s", E.show(s))
  end
  return (call(C.decode, s, max_bytes("io.decode", opts)))
end
doc(M.decode, "io.decode(s [, {max_bytes = n}])\n\nThe value held in the "
  .. "string s, made by io.encode (or read from a checkpoint file), with the "
  .. "same checks as io.load.")

-- --- numpy's .npy and .npz -------------------------------------------------

local function check_tensor(who, what, t)
  if not is_tensor(t) then E.raise("%s: %s must be a tensor, got %s", who, what, E.show(t)) end
end

function M.load_npy(path, opts)
  check_path("io.load_npy", path)
  opts = E.checkopts("io.load_npy", opts, { mmap = true })
  return (call(C.load_npy, path, opts.mmap))
end
doc(M.load_npy, "io.load_npy(path [, {mmap = true}])\n\nThe array of numpy's "
  .. ".npy file at path as a tensor: float64, float32, int64, bool, complex128 "
  .. "and complex64 in either byte order, C or Fortran order (a Fortran array "
  .. "comes back with column-major strides), 0-d and empty arrays.  Object "
  .. "arrays (which only pickle reads) and other dtypes are refused with a "
  .. "message naming them.  With mmap the file is mapped instead of read: "
  .. "pages load on first use, and writes to the tensor stay private to the "
  .. "process (the file is never changed).")

function M.save_npy(path, t)
  check_path("io.save_npy", path)
  check_tensor("io.save_npy", "the array", t)
  call(C.save_npy, path, t)
end
doc(M.save_npy, "io.save_npy(path, t)\n\nWrites t as numpy's .npy (format "
  .. "1.0, little-endian; a column-major tensor is written with "
  .. "fortran_order True, as numpy does), atomically like io.save.")

function M.load_npz(path, opts)
  check_path("io.load_npz", path)
  return (call(C.load_npz, path, max_bytes("io.load_npz", opts)))
end
doc(M.load_npz, "io.load_npz(path [, {max_bytes = n}])\n\nThe arrays of "
  .. "numpy's .npz file (np.savez or np.savez_compressed) as a table name -> "
  .. "tensor.  The zip directory is checked against the file before any member "
  .. "is read, and the members' uncompressed sizes must add up to at most "
  .. "max_bytes (default 64 MiB plus 16 times the file's size), so a small "
  .. "archive cannot inflate into gigabytes.  Each member's CRC-32 is checked.")

function M.save_npz(path, arrays, opts)
  check_path("io.save_npz", path)
  opts = E.checkopts("io.save_npz", opts, { compress = true })
  if type(arrays) ~= "table" or is_tensor(arrays) then
    E.raise("io.save_npz: arrays must be a table of tensors, got %s", E.show(arrays))
  end
  local names, tensors = {}, {}
  for k, t in next, arrays do
    local name = math.type(k) == "integer" and k >= 1 and ("arr_" .. (k - 1)) or k
    if type(name) ~= "string" or name == "" then
      E.raise("io.save_npz: array names must be non-empty strings, got %s", E.show(k))
    end
    check_tensor("io.save_npz", "arrays." .. name, t)
    names[#names + 1] = name
    tensors[name] = t
  end
  table.sort(names)
  local list = {}
  for i, name in ipairs(names) do list[i] = tensors[name] end
  call(C.save_npz, path, names, list, opts.compress)
end
doc(M.save_npz, "io.save_npz(path, arrays [, {compress = true}])\n\nWrites "
  .. "the tensors of the table arrays (name -> tensor; a list gives numpy's "
  .. "names arr_0, arr_1, ...) as numpy's .npz, stored or deflated "
  .. "(np.savez_compressed), atomically like io.save.")

-- --- text tables -------------------------------------------------------------

local function one_char(who, name, v, default)
  if v == nil then return default end
  if type(v) ~= "string" or #v ~= 1 then
    E.raise("%s: %s must be one character, got %s", who, name, E.show(v))
  end
  return v
end

function M.savetxt(path, t, opts)
  check_path("io.savetxt", path)
  check_tensor("io.savetxt", "the table", t)
  opts = E.checkopts("io.savetxt", opts, { header = true, delimiter = true, comments = true })
  local delim = one_char("io.savetxt", "delimiter", opts.delimiter, " ")
  local header = opts.header
  if type(header) == "table" then
    for i, name in ipairs(header) do
      if type(name) ~= "string" or name:find("[\n" .. (delim == " " and " \t" or delim) .. "]") then
        E.raise("io.savetxt: header name %d must be a string without the delimiter, got %s",
                i, E.show(name))
      end
    end
    if t.ndim == 2 and #header ~= t.shape[2] then
      E.raise("io.savetxt: %d header names for %d columns", #header, t.shape[2])
    end
    header = table.concat(header, delim)
  elseif header ~= nil and (type(header) ~= "string" or header:find("\n")) then
    E.raise("io.savetxt: header must be a list of names or one line, got %s", E.show(header))
  end
  local comments = opts.comments or "# "
  if type(comments) ~= "string" or comments:find("\n") then
    E.raise("io.savetxt: comments must be a string, got %s", E.show(comments))
  end
  call(C.savetxt, path, t, delim, header, comments)
end
doc(M.savetxt, "io.savetxt(path, t [, {header = names, delimiter = \" \", comments = \"# \"}])\n\n"
  .. "Writes t (1-d: one column; 2-d: one row per line) as a text table that "
  .. "gnuplot and spreadsheets read: fields separated by delimiter (\",\" for "
  .. "CSV), floats with the fewest digits that read back to the same bits "
  .. "(0.1 is \"0.1\"; nan, inf, -inf), integers and bools (0/1) as integers.  "
  .. "header, a list of column names (or one line of text), is written first "
  .. "after the comments prefix (\"\" for a spreadsheet's bare header line).  "
  .. "Atomic like io.save.")

function M.loadtxt(path, opts)
  check_path("io.loadtxt", path)
  opts = E.checkopts("io.loadtxt", opts, { delimiter = true, comments = true, dtype = true })
  local delim = one_char("io.loadtxt", "delimiter", opts.delimiter, nil)
  local comment = one_char("io.loadtxt", "comments", opts.comments, "#")
  local dtype = opts.dtype or "f64"
  if dtype ~= "f64" and dtype ~= "f32" and dtype ~= "i64" then
    E.raise("io.loadtxt: dtype must be \"f64\", \"f32\" or \"i64\", got %s", E.show(dtype))
  end
  local t, joined = call(C.loadtxt, path, delim, comment, dtype)
  local names
  if joined ~= "" then
    names = {}
    for name in joined:gmatch("([^\n]*)\n") do names[#names + 1] = name end
  end
  return t, names
end
doc(M.loadtxt, "io.loadtxt(path [, {delimiter = c, comments = \"#\", dtype = \"f64\"}])\n\n"
  .. "A text table as a 2-d tensor (rows x columns) and the list of its "
  .. "column names (nil without a header).  Fields are split by runs of "
  .. "whitespace, or by the one-character delimiter (\",\" for CSV); from a "
  .. "comments character to the end of a line is ignored, as are blank lines.  "
  .. "The header is the last comment line before the data when it has one "
  .. "name per column (\"# t E M\"), or a first line that is not numbers "
  .. "(\"t,E,M\").  Every row must have the same number of columns; a field "
  .. "that is not a number is an error naming the file, line and column.")

-- --- HDF5 --------------------------------------------------------------------

local H5 = {}
H5.__index = H5
H5.__name = "hebb.io.H5File"

local function check_name(who, name)
  if type(name) ~= "string" or name == "" then
    E.raise("%s: a name must be a non-empty string, got %s", who, E.show(name))
  end
end

-- a list of n positive integers (1-based positions or sizes)
local function int_list(who, what, v, n, base)
  if type(v) ~= "table" or #v ~= n then
    E.raise("%s: %s must be a list of %d integers, got %s", who, what, n, E.show(v))
  end
  local out = {}
  for i = 1, n do
    local x = v[i]
    if math.type(x) ~= "integer" or x < (base or 1) then
      E.raise("%s: %s[%d] must be an integer >= %d, got %s", who, what, i, base or 1, E.show(x))
    end
    out[i] = base == 0 and x or x - 1
  end
  return out
end

local function level(who, c)
  if c == nil or c == false then return nil end
  if c == true then return 4 end
  if math.type(c) ~= "integer" or c < 0 or c > 9 then
    E.raise("%s: compress must be true or a gzip level 0..9, got %s", who, E.show(c))
  end
  return c
end

-- the growable dims as a bit mask: true (all), a dim, or a list of dims
local function growable(who, g, ndim)
  if g == nil or g == false then return 0 end
  if g == true then return (1 << ndim) - 1 end
  local dims = type(g) == "table" and g or { g }
  local mask = 0
  for _, d in ipairs(dims) do
    if math.type(d) ~= "integer" or d < 1 or d > ndim then
      E.raise("%s: growable dim %s is out of range for %d dimensions", who, E.show(d), ndim)
    end
    mask = mask | (1 << (d - 1))
  end
  return mask
end

local function chunks(who, c, t)
  if c == nil then return nil end
  return int_list(who, "chunks", c, t.ndim, 1) and c
end

function M.h5open(path, mode)
  check_path("io.h5open", path)
  if mode ~= nil and type(mode) ~= "string" then
    E.raise("io.h5open: mode must be a string, got %s", E.show(mode))
  end
  return setmetatable({ _f = call(C.h5open, path, mode or "r"), path = path }, H5)
end
doc(M.h5open, "io.h5open(path [, mode])\n\nAn HDF5 file (Debian's libhdf5, "
  .. "loaded on first use): mode \"r\" (read, the default), \"r+\" (read and "
  .. "write), \"w\" (create or truncate), \"x\" (create; must not exist), "
  .. "\"a\" (read and write, created if missing).  Methods: write, read, append, "
  .. "info, exists, group, list, set_attr, attr, attrs, flush, close; "
  .. "`local f <close> = io.h5open(...)` closes it at the end of the scope.  "
  .. "Datasets use h5py's types: complex as the compound {r, i}, bool as the "
  .. "enum {FALSE, TRUE}.  See docs/io.md.")

function H5:write(name, t, opts)
  check_name("h5:write", name)
  check_tensor("h5:write", "the data", t)
  opts = E.checkopts("h5:write", opts, { chunks = true, compress = true, growable = true, start = true })
  if opts.start ~= nil then
    call(self._f.write_block, self._f, name, t, int_list("h5:write", "start", opts.start, t.ndim, 1))
    return
  end
  call(self._f.write, self._f, name, t, chunks("h5:write", opts.chunks, t),
       level("h5:write", opts.compress), growable("h5:write", opts.growable, t.ndim))
end
doc(H5.write, "f:write(name, t [, {chunks = {...}, compress = true|0..9, growable = dims, start = {...}}])\n\n"
  .. "Makes the dataset name (a path: groups on the way are made) holding t.  "
  .. "chunks gives the chunk shape (chosen automatically, at most 1 MiB, when "
  .. "compress or growable asks for chunking), compress a gzip level (true: "
  .. "4), growable the dims that may grow later (a dim, a list, or true for "
  .. "all; see f:append).  With start (1-based, one per dimension) t is "
  .. "instead written into the existing dataset as the block beginning there.")

function H5:read(name, opts)
  check_name("h5:read", name)
  opts = E.checkopts("h5:read", opts, { start = true, count = true, max_bytes = true })
  local start, count
  if opts.start ~= nil or opts.count ~= nil then
    local info = self:info(name)
    local shape = info and info.shape or {}
    local s, c = opts.start or {}, opts.count or {}
    if type(s) ~= "table" or #s > #shape or type(c) ~= "table" or #c > #shape then
      E.raise("h5:read: start and count must be lists of at most %d integers", #shape)
    end
    start, count = {}, {}
    for i = 1, #shape do   -- missing trailing entries: from 1, the rest
      start[i] = s[i] or 1
      count[i] = c[i] or shape[i] - start[i] + 1
    end
    start = int_list("h5:read", "start", start, #shape, 1)
    count = int_list("h5:read", "count", count, #shape, 0)
  end
  return (call(self._f.read, self._f, name, start, count, max_bytes("h5:read", { max_bytes = opts.max_bytes })))
end
doc(H5.read, "f:read(name [, {start = {...}, count = {...}, max_bytes = n}])\n\n"
  .. "The dataset name as a tensor of its dtype (integer datasets up to 32 bits, "
  .. "signed or not, read exactly as i64; types hebb lacks are refused by "
  .. "name), or only the block of count elements per dimension from start "
  .. "(1-based; count defaults to the rest).  A read needing more than "
  .. "max_bytes (default 64 MiB plus 16 times the file's size) is refused.")

function H5:append(name, t, opts)
  check_name("h5:append", name)
  check_tensor("h5:append", "the block", t)
  opts = E.checkopts("h5:append", opts, { dim = true, chunks = true, compress = true })
  local dim = opts.dim or 1
  if math.type(dim) ~= "integer" or dim < 1 or dim > t.ndim then
    E.raise("h5:append: dim must be 1..%d for a %d-dimensional block, got %s", t.ndim, t.ndim, E.show(dim))
  end
  call(self._f.append, self._f, name, t, dim - 1, chunks("h5:append", opts.chunks, t),
       level("h5:append", opts.compress))
end
doc(H5.append, "f:append(name, t [, {dim = 1, chunks = {...}, compress = ...}])\n\n"
  .. "Grows the dataset name along dim by t's size there and writes t at the "
  .. "end: a time series growing during a run (append a {1, n} row per "
  .. "measurement, or a block of them).  The first append makes the dataset, "
  .. "chunked and growable along dim without bound.")

function H5:info(name)
  check_name("h5:info", name)
  return (call(self._f.info, self._f, name))
end
doc(H5.info, "f:info(name)\n\nnil when the file has no name; else "
  .. "{kind = \"group\"|\"dataset\"|\"other\"} and, for a dataset, dtype (or "
  .. "type, describing one hebb lacks), shape, maxshape (math.huge: "
  .. "unlimited) and chunks (when chunked).")

function H5:exists(name)
  return self:info(name) ~= nil
end
doc(H5.exists, "f:exists(name)\n\nWhether the file has a group or dataset name.")

function H5:group(name)
  check_name("h5:group", name)
  call(self._f.group, self._f, name)
end
doc(H5.group, "f:group(name)\n\nMakes the group name (and the groups on the "
  .. "way) unless it exists.")

function H5:list(name)
  if name ~= nil then check_name("h5:list", name) end
  return (call(self._f.list, self._f, name or "/"))
end
doc(H5.list, "f:list([group])\n\nThe names in group (default the root), sorted.")

local function attr_value(who, v)
  local tv = type(v)
  if tv == "string" then
    if v:find("\0", 1, true) then E.raise("%s: a string attribute cannot hold a zero byte", who) end
    return v
  end
  if tv == "boolean" then return T.tensor(v) end
  if tv == "number" then
    return math.type(v) == "integer" and T.tensor(v, { dtype = "i64" }) or T.tensor(v)
  end
  if is_tensor(v) then return v end
  E.raise("%s: an attribute is a number, boolean, string or tensor, got %s", who, E.show(v))
end

function H5:set_attr(name, key, value)
  check_name("h5:set_attr", name)
  check_name("h5:set_attr", key)
  call(self._f.set_attr, self._f, name, key, attr_value("h5:set_attr", value))
end
doc(H5.set_attr, "f:set_attr(name, key, value)\n\nSets the attribute key of "
  .. "the group or dataset name (\"/\" is the file) to value: a number "
  .. "(integer -> int64, float -> float64), a boolean, a string (UTF-8, as "
  .. "h5py writes str) or a tensor.  An existing attribute is replaced.")

-- a 0-d real or bool tensor reads as a Lua value
local function plain(v)
  if is_tensor(v) and v.ndim == 0 and v.dtype ~= "c128" and v.dtype ~= "c64" then
    return v:item()
  end
  return v
end

function H5:attr(name, key)
  check_name("h5:attr", name)
  check_name("h5:attr", key)
  return plain(call(self._f.attr, self._f, name, key))
end
doc(H5.attr, "f:attr(name, key)\n\nThe attribute key of name (a number, "
  .. "boolean, string or tensor), or nil.")

function H5:attrs(name)
  check_name("h5:attrs", name)
  local out = {}
  for _, key in ipairs(call(self._f.attr_names, self._f, name)) do
    out[key] = self:attr(name, key)
  end
  return out
end
doc(H5.attrs, "f:attrs(name)\n\nAll attributes of name as a table key -> value.")

function H5:flush() call(self._f.flush, self._f) end
doc(H5.flush, "f:flush()\n\nWrites HDF5's buffers to the file (a run's "
  .. "data so far survives a crash of the run).")

function H5:close()
  if self._f then
    local f = self._f
    self._f = nil
    call(f.close, f)
  end
end
doc(H5.close, "f:close()\n\nCloses the file (errors are reported); a "
  .. "closed file's methods raise an error.")
H5.__close = H5.close
H5.__index = function(self, k)
  local m = H5[k]
  if m ~= nil then
    if type(m) == "function" and k ~= "close" and rawget(self, "_f") == nil then
      E.raise("h5:%s: the file %s is closed", k, E.show(rawget(self, "path")))
    end
    return m
  end
end
H5.__tostring = function(self)
  return string.format("H5File(%q%s)", self.path, self._f and "" or ", closed")
end
M.H5File = H5
doc(H5, "io.H5File\n\nAn open HDF5 file, made by io.h5open; its methods "
  .. "follow.")

doc(M, "hebb.io\n\nData files that are safe to load and to save: hebb's "
  .. "checkpoints (io.save/io.load: tables, numbers, strings, booleans and "
  .. "tensors with exact bits; data only, saved atomically), numpy .npy/.npz, "
  .. "HDF5 and text tables.  See docs/io.md.")

return M
