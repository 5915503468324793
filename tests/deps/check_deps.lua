-- check_deps.lua -- every program that the tests, benches and CI call is
-- installed by tools/deps.sh (or comes with every Debian system).
--
-- A fresh Debian 12 once failed `make test` because a test called g++,
-- which no list in tools/deps.sh named; this machine had it, so nothing
-- here noticed.  This check finds the programs in command position in the
-- shell scripts (tests/*/run.sh, bench/*.sh, .ci/run, the Makefile's
-- recipes) and in the command strings that Lua files pass to io.popen or
-- os.execute, finds the Debian package that owns each (dpkg -S), and
-- requires that package to be Essential/required (debootstrap's minbase
-- has those), named by tools/deps.sh, or pulled in by a package it names.
local check = require "check"

local function sh(cmd)
  local f = assert(io.popen(cmd))
  local out = f:read("a")
  f:close()
  return out
end

local function lines_of(path)
  local f = io.open(path)
  if not f then return {} end
  local t = {}
  for l in f:lines() do t[#t + 1] = l end
  f:close()
  return t
end

-- words that sit in command position in one line of shell
local SEP = { ["|"] = true, ["||"] = true, ["&&"] = true, [";"] = true,
  ["then"] = true, ["do"] = true, ["else"] = true, ["if"] = true,
  ["while"] = true, ["until"] = true, ["!"] = true, ["time"] = true,
  ["exec"] = true, ["command"] = true, ["env"] = true, ["nice"] = true,
  ["timeout"] = true }

local function shell_commands(line, out)
  line = line:gsub("^%s*#.*", ""):gsub("%s#.*", "")
  -- programs named in variables: X=${X:-lua5.4}, PY=/usr/bin/python3
  for w in line:gmatch(":%-([%a][%w%.%+_%-]*)}") do out[w] = true end
  for w in line:gmatch("=/usr/bin/([%a][%w%.%+_%-]*)") do out[w] = true end
  line = line:gsub("%$%(", " ; "):gsub("`", " ; "):gsub("[()]", " ; ")
  local expect = true
  for w in line:gmatch("%S+") do
    w = w:gsub("^[\"']", ""):gsub("[\"';]$", "")
    if SEP[w] or w == ";" then
      expect = true
    elseif expect then
      if not w:find("=", 1, true) or w:find("^[%-%w]") == nil then
        if w:match("^[%a][%w%.%+_%-]*$") then out[w] = true end
        expect = false
      end
    end
  end
end

-- the first word of each string literal passed to io.popen / os.execute
local function lua_commands(src, out)
  for call in src:gmatch("[%w_]+%.[%w_]+%s*%(([^\n]*)") do
    local word = call:match("^%s*[\"']([%a][%w%.%+_%-]*)")
    if word then out[word] = true end
  end
end

local files = sh("git ls-files tests bench .ci Makefile tools 2>/dev/null")
local words = {}
for path in files:gmatch("[^\n]+") do
  if path:match("%.sh$") or path:match("/run$") or path:match("run%.sh$") then
    for _, l in ipairs(lines_of(path)) do shell_commands(l, words) end
  elseif path == "Makefile" then
    for _, l in ipairs(lines_of(path)) do
      if l:match("^\t") then shell_commands((l:gsub("^\t@?", "")), words) end
    end
  elseif path:match("%.lua$") then
    local src = table.concat(lines_of(path), "\n")
    local calls = {}
    for body in src:gmatch("io%.popen%s*(%b())") do calls[#calls + 1] = body end
    for body in src:gmatch("os%.execute%s*(%b())") do calls[#calls + 1] = body end
    for _, body in ipairs(calls) do
      local w = body:match("^%(%s*[\"']([%a][%w%.%+_%-]*)")
      if w then words[w] = true end
    end
  end
end

-- only words that name programs in Debian's own folders (not the PATH: a
-- python3 from pyenv or /usr/local would hide what Debian must install)
local programs = {}
for w in pairs(words) do
  for _, dir in ipairs({"/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/"}) do
    local f = io.open(dir .. w)
    if f then f:close(); programs[w] = dir .. w; break end
  end
end

-- the package lists of tools/deps.sh
local listed = {}
for _, l in ipairs(lines_of("tools/deps.sh")) do
  local body = l:match('^[%w_]+="([^"]*)"')
  if body then for p in body:gmatch("%S+") do listed[p] = true end end
end

local closure
local function in_closure(pkg)
  if not closure then
    local names = {}
    for p in pairs(listed) do names[#names + 1] = p end
    closure = {}
    local out = sh("apt-cache depends --recurse --no-recommends --no-suggests " ..
                   "--no-conflicts --no-breaks --no-replaces --no-enhances " ..
                   table.concat(names, " ") .. " 2>/dev/null")
    for p in out:gmatch("[^\n]+") do
      p = p:match("^(%S+)$")
      if p then closure[p:gsub(":amd64$", "")] = true end
    end
  end
  return closure[pkg]
end

local function owner(path)
  local real = sh("readlink -f " .. path):match("%S+")
  for _, p in ipairs({path, real}) do
    local pkg = sh("dpkg -S " .. p .. " 2>/dev/null"):match("^([^:,%s]+)")
    if pkg then return pkg end
  end
  return nil
end

local names = {}
for w in pairs(programs) do names[#names + 1] = w end
table.sort(names)
check.ok("found_programs", #names >= 5,
         "too few programs found in the scripts: " .. table.concat(names, " "))
for _, w in ipairs(names) do
  local pkg = owner(programs[w])
  if pkg then
    local prio = sh("dpkg-query -W -f '${Priority} ${Essential}' " .. pkg .. " 2>/dev/null")
    local base = prio:find("required", 1, true) or prio:find("yes", 1, true)
    check.ok("program_" .. w, base or listed[pkg] or in_closure(pkg),
             string.format("%s (%s, package %s) is called by a test, bench or CI script " ..
                           "but no list in tools/deps.sh installs it", w, programs[w], pkg))
  end
end

check.done()
