-- hebb._store: the results store of hebb.sweep and hebb.runs, an SQLite
-- database (hebb-runs.db in the current folder unless told otherwise).
--
-- One table, runs: a row per (sweep, parameters, code) with its status
-- ("done" or "error"), the point and the results in hebb's checkpoint
-- format (io.encode: tensors keep their bits), start time, duration and a
-- manifest (hebb version, commit, host, threads, seed, worker).  A row is
-- written by one INSERT, its own transaction: a process killed while
-- computing a point leaves no row for it, and one killed while writing
-- leaves the database as it was before the INSERT (SQLite's journal).
--
-- The database runs in WAL mode with synchronous = NORMAL: a commit is
-- not flushed to disk by itself (an fsync per point cost 2-10 ms here,
-- more than the 2 ms a point's bookkeeping may take), so a power cut can
-- lose the last points, but a killed process never loses a committed one
-- and never leaves a half-written row.  WAL needs a local file system;
-- on NFS give journal = "delete" (sweep.run's option).
local S = require "hebb._sqlite"
local hio = require "hebb.io"
local E = require "hebb._error"

local M = {}
M.__index = M

local FORMAT = "1"
local SCHEMA = [[
CREATE TABLE IF NOT EXISTS hebb_store(name TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO hebb_store VALUES('format', ']] .. FORMAT .. [[');
CREATE TABLE IF NOT EXISTS runs(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  sweep TEXT NOT NULL,
  params TEXT NOT NULL,
  code TEXT NOT NULL,
  status TEXT NOT NULL,
  point BLOB NOT NULL,
  started REAL NOT NULL,
  seconds REAL NOT NULL,
  manifest BLOB NOT NULL,
  results BLOB,
  error TEXT,
  UNIQUE(sweep, params, code));
]]
local COLUMNS = "id, sweep, params, code, status, point, started, seconds, " ..
                "manifest, results, error"

-- where the store is when nobody says: $HEBB_RUNS_DB, else hebb-runs.db in
-- the current folder
function M.default_path()
  local env = os.getenv("HEBB_RUNS_DB")
  if env and env ~= "" then return env end
  return "hebb-runs.db"
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

-- calls f(...), turning SQLite's messages into the store's
function M:call(f, ...)
  local ok, a, b = pcall(f, ...)
  if ok then return a, b end
  -- the sandbox's refusal comes positioned at the user's line already;
  -- the raise below positions the whole message once
  local msg = E.bare(a)
  if msg:find("database is locked", 1, true) or msg:find("database table is locked", 1, true) then
    E.raise("%s: the results store '%s' is locked by another process (waited %g s; "
            .. "the option timeout = seconds waits longer)", self.who, self.path, self.timeout)
  elseif msg:find("file is not a database", 1, true) or msg:find("malformed", 1, true) then
    E.raise("%s: '%s' is not a readable results store (%s)", self.who, self.path,
            msg:match("%(SQLite: (.*)%)$") or msg)
  end
  E.raise("%s: %s", self.who, msg)
end

function M:query(sql, ...)
  return self:call(self.db.query, self.db, sql, ...)
end

local function check_format(self)
  local rows = self:query("SELECT name FROM sqlite_master WHERE type = 'table'")
  local tables = {}
  for _, r in ipairs(rows) do tables[r[1]] = true end
  if next(tables) and not tables.hebb_store then
    E.raise("%s: '%s' is an SQLite database but not a hebb results store", self.who, self.path)
  end
  if tables.hebb_store then
    local f = self:query("SELECT value FROM hebb_store WHERE name = 'format'")
    if not f[1] or f[1][1] ~= FORMAT then
      E.raise("%s: '%s' is a results store of format %s; this hebb reads format %s",
              self.who, self.path, tostring(f[1] and f[1][1]), FORMAT)
    end
  end
  return tables.hebb_store
end

-- open{path=, who=, readonly=, existing=, timeout= seconds, journal=}: a
-- store; readonly or existing refuse a missing file instead of creating it
function M.open(o)
  local self = setmetatable({ who = o.who, path = o.path or M.default_path(),
                              timeout = o.timeout or 5 }, M)
  if (o.readonly or o.existing) and not exists(self.path) then
    E.raise("%s: no results store '%s' (run a sweep first, or give the path)", self.who, self.path)
  end
  self.db = self:call(S.open, self.path, o.readonly, math.floor(self.timeout * 1000))
  local ready = check_format(self)
  if not o.readonly then
    self:query("PRAGMA journal_mode = " .. (o.journal or "wal"))
    self:query("PRAGMA synchronous = NORMAL")
    if not ready then self:call(self.db.exec, self.db, SCHEMA) end
  end
  return self
end

function M:close()
  if self.db then self.db:close() end
  self.db = nil
end
M.__close = M.close

-- the ids of the finished runs of a sweep and code version, by parameters
function M:done(sweep, code)
  local rows = self:query("SELECT params, id FROM runs WHERE sweep = ? AND code = ? "
                          .. "AND status = 'done'", sweep, code)
  local ids = {}
  for _, r in ipairs(rows) do ids[r[1]] = r[2] end
  return ids
end

-- writes one run (a table with the fields of a row, blobs encoded);
-- replaces an earlier run of the same sweep, parameters and code
function M:write(r)
  self:query("INSERT OR REPLACE INTO runs(sweep, params, code, status, point, "
             .. "started, seconds, manifest, results, error) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
             r.sweep, r.params, r.code, r.status, S.blob(r.point), r.started, r.seconds,
             S.blob(r.manifest), r.results and S.blob(r.results) or nil, r.error)
  local _, id = self.db:changes()
  return id
end

-- a row as a run: blobs decoded
local function decode_row(row)
  local run = { id = row[1], sweep = row[2], params = row[3], code = row[4],
                status = row[5], point = hio.decode(row[6]), started = row[7],
                seconds = row[8], manifest = hio.decode(row[9]), error = row[11] }
  if row[10] then run.results = hio.decode(row[10], { max_bytes = math.huge }) end
  return run
end

-- runs{sweep=, ids=, status=}: the runs (decoded), oldest first
function M:runs(f)
  f = f or {}
  local where, args = {}, {}
  if f.sweep then where[#where + 1] = "sweep = ?"; args[#args + 1] = f.sweep end
  if f.status then where[#where + 1] = "status = ?"; args[#args + 1] = f.status end
  if f.code then where[#where + 1] = "code = ?"; args[#args + 1] = f.code end
  if f.ids then
    local q = {}
    for i, id in ipairs(f.ids) do q[i] = "?"; args[#args + 1] = id end
    where[#where + 1] = "id IN (" .. table.concat(q, ", ") .. ")"
  end
  local sql = "SELECT " .. COLUMNS .. " FROM runs"
  if #where > 0 then sql = sql .. " WHERE " .. table.concat(where, " AND ") end
  local rows = self:query(sql .. " ORDER BY id", table.unpack(args))
  local out = {}
  for i, row in ipairs(rows) do out[i] = decode_row(row) end
  return out
end

-- a summary per run without decoding results: id, sweep, params, code,
-- status, started, seconds, error
function M:list(sweep)
  local sql = "SELECT id, sweep, params, code, status, started, seconds, error FROM runs"
  local rows = sweep and self:query(sql .. " WHERE sweep = ? ORDER BY id", sweep)
    or self:query(sql .. " ORDER BY id")
  local out = {}
  for i, r in ipairs(rows) do
    out[i] = { id = r[1], sweep = r[2], params = r[3], code = r[4], status = r[5],
               started = r[6], seconds = r[7], error = r[8] }
  end
  return out
end

-- removes runs by id; the number removed
function M:remove(ids)
  local q = {}
  for i in ipairs(ids) do q[i] = "?" end
  self:query("DELETE FROM runs WHERE id IN (" .. table.concat(q, ", ") .. ")", table.unpack(ids))
  return (self.db:changes())
end

return M
