-- hebb._plot_svg: the pieces hebb.plot draws with -- SVG elements with
-- fixed number formats (same figure, same bytes), labels with LaTeX-ish
-- math, colour maps, a PNG encoder for heatmaps, and check(), the
-- allowlist a figure must pass before a notebook page embeds it.
local mathml = require "hebb._mathml"
local fmt, concat = string.format, table.concat

local M = {}
local esc = mathml.escape

-- coordinates: two decimals, never "-0.00"
function M.num(x)
  local s = fmt("%.2f", x)
  if s == "-0.00" then s = "0.00" end
  return (s:gsub("%.?0+$", ""))
end
local num = M.num

-- an element: tag, ordered attribute list {name, value, ...}, inner text
function M.el(tag, attrs, inner)
  local parts = { "<", tag }
  for i = 1, #attrs, 2 do
    local v = attrs[i + 1]
    if v ~= nil then
      if type(v) == "number" then v = num(v) end
      parts[#parts + 1] = fmt(' %s="%s"', attrs[i], esc(tostring(v)))
    end
  end
  if inner then
    parts[#parts + 1] = ">" .. inner .. "</" .. tag .. ">"
  else
    parts[#parts + 1] = "/>"
  end
  return concat(parts)
end

-- a colour someone gave: #rgb, #rrggbb or a CSS name (letters only)
function M.color(c, who)
  if type(c) == "string" and (c:match("^#%x%x%x$") or c:match("^#%x%x%x%x%x%x$")
                              or c:match("^%a+$")) then
    return c
  end
  require("hebb._error").raise("%s: color must be '#rrggbb', '#rgb' or a name "
                               .. "like 'red', got %s", who, require("hebb._error").show(c))
end

-- --- labels: text with $...$ math -------------------------------------------------

local GREEK = { alpha = "α", beta = "β", gamma = "γ", delta = "δ", epsilon = "ε",
  varepsilon = "ε", zeta = "ζ", eta = "η", theta = "θ", iota = "ι", kappa = "κ",
  lambda = "λ", mu = "μ", nu = "ν", xi = "ξ", pi = "π", rho = "ρ", sigma = "σ",
  tau = "τ", upsilon = "υ", phi = "φ", varphi = "φ", chi = "χ", psi = "ψ",
  omega = "ω", Gamma = "Γ", Delta = "Δ", Theta = "Θ", Lambda = "Λ", Xi = "Ξ",
  Pi = "Π", Sigma = "Σ", Phi = "Φ", Psi = "Ψ", Omega = "Ω" }
local SYMBOLS = { cdot = "·", times = "×", pm = "±", le = "≤", leq = "≤",
  ge = "≥", geq = "≥", ne = "≠", approx = "≈", sim = "∼", propto = "∝",
  infty = "∞", partial = "∂", nabla = "∇", hbar = "ℏ", ell = "ℓ", to = "→",
  rightarrow = "→", langle = "⟨", rangle = "⟩", sqrt = "√", sum = "Σ",
  int = "∫", prime = "′", degree = "°", ["{"] = "\5", ["}"] = "\6",
  ["%"] = "%", ["$"] = "$", ldots = "…", cdots = "⋯",
  ln = "ln\1", log = "log\1", exp = "exp\1", sin = "sin\1", cos = "cos\1",
  tanh = "tanh\1", min = "min\1", max = "max\1" }
local SUPERSCRIPT = { ["0"] = "⁰", ["1"] = "¹", ["2"] = "²", ["3"] = "³", ["4"] = "⁴",
  ["5"] = "⁵", ["6"] = "⁶", ["7"] = "⁷", ["8"] = "⁸", ["9"] = "⁹" }

local THIN = "\u{2009}"
local SPACING = { [","] = THIN, [";"] = " ", [":"] = THIN, [" "] = " ",
  quad = "  ", qquad = "    " }
local RELATIONS = { "=", "<", ">", "≤", "≥", "≈", "≠", "∼", "∝", "→", "≡" }

-- the text of a math group: commands to Unicode, fractions to a/b, braces
-- dropped, spaces as TeX sets them (the source's spaces do not count;
-- relations get spaces, + and - between operands thin ones); the caller
-- makes the tspans of scripts
local function math_text(s, after_operand)
  if after_operand then s = "\7" .. s end   -- the piece follows a script
  s = s:gsub("\\[dt]?frac%s*(%b{})%s*(%b{})", function(a, b)
    a, b = a:sub(2, -2), b:sub(2, -2)
    local function wrap(x) return x:find("[%s%+%-]") and "(" .. x .. ")" or x end
    return wrap(a) .. "/" .. wrap(b) .. "\1"
  end)
  s = s:gsub("\\mathrm{([^}]*)}", "%1"):gsub("\\text{([^}]*)}", "\2%1\2")
       :gsub("\\mathbf{([^}]*)}", "%1"):gsub("\\operatorname{([^}]*)}", "%1")
  s = s:gsub("\\(%a+)", function(name)
    if SPACING[name] then return "\3" .. name .. "\3" end
    return GREEK[name] or SYMBOLS[name] or name
  end)
  s = s:gsub("\\([%p ])", function(p)
    if SPACING[p] then return "\3" .. p .. "\3" end
    return SYMBOLS[p] or p
  end)
  -- a script inside a script: digits as Unicode superscripts
  s = s:gsub("%^{?(%d)}?", SUPERSCRIPT)
  -- \text{...} keeps its spaces: protect them, drop the others
  s = s:gsub("\2(.-)\2", function(t) return (t:gsub(" ", "\4")) end)
  s = s:gsub("%s+", "")
  s = s:gsub("([%w%)%]′\7])%-", "%1 − "):gsub("%-", "−")
  s = s:gsub("([%w%)%]′\7])%+", "%1 + "):gsub("\7", "")
  for _, r in ipairs(RELATIONS) do s = s:gsub(r:gsub("%p", "%%%0"), " " .. r .. " ") end
  s = s:gsub("\3(.-)\3", SPACING):gsub("\1", THIN):gsub("\4", " ")
  s = s:gsub("[{}]", ""):gsub("  +", " "):gsub("\5", "{"):gsub("\6", "}")
  return s
end

-- M.label(s) -> SVG text content (escaped, with <tspan> scripts) and an
-- estimate of its width in em
function M.label(s)
  s = tostring(s)
  local out, width = {}, 0
  local function plain(t)
    out[#out + 1] = esc(t)
    width = width + utf8.len(t) * 0.6
  end
  local i = 1
  while i <= #s do
    local a = s:find("$", i, true)
    local b = a and s:find("$", a + 1, true)
    if not b then plain(s:sub(i)); break end
    if a > i then plain(s:sub(i, a - 1)) end
    local m = s:sub(a + 1, b - 1)
    local j = 1
    while j <= #m do
      local c = m:sub(j, j)
      if c == "^" or c == "_" then
        local arg, nxt
        if m:sub(j + 1, j + 1) == "{" then
          local depth, k = 0, j + 1
          repeat
            local ch = m:sub(k, k)
            if ch == "{" then depth = depth + 1 elseif ch == "}" then depth = depth - 1 end
            k = k + 1
          until depth == 0 or k > #m
          arg, nxt = m:sub(j + 2, k - 2), k
        elseif m:sub(j + 1, j + 1) == "\\" then
          local cmd = m:match("^\\%a+", j + 1) or m:sub(j + 1, j + 2)
          arg, nxt = cmd, j + 1 + #cmd
        else
          arg, nxt = m:sub(j + 1, j + 1), j + 2
        end
        local t = math_text(arg)
        out[#out + 1] = fmt('<tspan baseline-shift="%s" font-size="75%%">%s</tspan>',
                            c == "^" and "super" or "sub", esc(t))
        width = width + utf8.len(t) * 0.45
        j = nxt
      else
        local k = m:find("[%^_]", j) or #m + 1
        local t = math_text(m:sub(j, k - 1), j > 1)
        -- single letters in math are italic, as in TeX
        t = esc(t):gsub("%f[%a]([%a])%f[%A]", '<tspan font-style="italic">%1</tspan>')
        out[#out + 1] = t
        width = width + utf8.len(math_text(m:sub(j, k - 1), j > 1)) * 0.6
        j = k
      end
    end
    i = b + 1
  end
  return concat(out), width
end

-- --- colour maps -------------------------------------------------------------------

-- anchors sampled from the published maps (viridis, magma: matplotlib's
-- perceptually uniform maps; coolwarm: Moreland's diverging map) at 9
-- evenly spaced points; linear interpolation between them
local CMAPS = {
  viridis = { { 68, 1, 84 }, { 71, 44, 122 }, { 59, 81, 139 }, { 44, 113, 142 },
              { 33, 144, 141 }, { 39, 173, 129 }, { 92, 200, 99 }, { 170, 220, 50 },
              { 253, 231, 37 } },
  magma = { { 0, 0, 4 }, { 28, 16, 68 }, { 79, 18, 123 }, { 129, 37, 129 },
            { 181, 54, 122 }, { 229, 80, 100 }, { 251, 135, 97 }, { 254, 194, 135 },
            { 252, 253, 191 } },
  coolwarm = { { 59, 76, 192 }, { 98, 130, 234 }, { 141, 176, 254 }, { 184, 208, 249 },
               { 221, 221, 221 }, { 245, 196, 173 }, { 244, 154, 123 }, { 222, 96, 77 },
               { 180, 4, 38 } },
  gray = { { 0, 0, 0 }, { 255, 255, 255 } },
}
M.CMAPS = CMAPS

-- the colour of t in [0, 1] as r, g, b (0..255 integers)
function M.cmap(name, t)
  local a = CMAPS[name]
  if t ~= t then t = 0 end
  t = math.max(0, math.min(1, t)) * (#a - 1)
  local i = math.min(math.floor(t), #a - 2)
  local f = t - i
  local lo, hi = a[i + 1], a[i + 2]
  local function mix(k) return math.floor(lo[k] + (hi[k] - lo[k]) * f + 0.5) end
  return mix(1), mix(2), mix(3)
end

-- --- PNG ---------------------------------------------------------------------------

local CRC = {}
for n = 0, 255 do
  local c = n
  for _ = 1, 8 do
    if c & 1 == 1 then c = 0xEDB88320 ~ (c >> 1) else c = c >> 1 end
  end
  CRC[n] = c
end

local function crc32(s)
  local c = 0xFFFFFFFF
  for i = 1, #s do c = CRC[(c ~ s:byte(i)) & 0xFF] ~ (c >> 8) end
  return c ~ 0xFFFFFFFF
end

local function adler32(s)
  local a, b = 1, 0
  for i = 1, #s do
    a = (a + s:byte(i)) % 65521
    b = (b + a) % 65521
  end
  return (b << 16) | a
end

local function chunk(kind, data)
  return string.pack(">I4", #data) .. kind .. data .. string.pack(">I4", crc32(kind .. data))
end

-- --- deflate with the fixed Huffman code (RFC 1951, 3.2.6) ------------------
-- Heatmaps are enlarged cell by cell before they are stored (every
-- renderer then shows crisp cells; rsvg-convert ignores image-rendering),
-- so their bytes repeat the pixel before (distance 3) or the row above
-- (distance = the row's length): a greedy match against those two
-- distances alone compresses them to a few per cent, in one pass, and the
-- output depends on nothing but the pixels.

local LEN_BASE = { 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35,
  43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258 }
local LEN_EXTRA = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3,
  4, 4, 4, 4, 5, 5, 5, 5, 0 }
local DIST_BASE = { 1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
  257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577 }
local DIST_EXTRA = { 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8,
  9, 9, 10, 10, 11, 11, 12, 12, 13, 13 }

local function bitwriter()
  local out, acc, n = {}, 0, 0
  local w = {}
  function w.bits(v, count)   -- least significant bit first
    acc = acc | (v << n)
    n = n + count
    while n >= 8 do
      out[#out + 1] = string.char(acc & 0xFF)
      acc, n = acc >> 8, n - 8
    end
  end
  function w.code(v, count)   -- a Huffman code: most significant bit first
    local r = 0
    for _ = 1, count do r = (r << 1) | (v & 1); v = v >> 1 end
    w.bits(r, count)
  end
  function w.finish()
    if n > 0 then out[#out + 1] = string.char(acc & 0xFF) end
    return concat(out)
  end
  return w
end

local function symbol(w, v)   -- a literal/length symbol, fixed code
  if v < 144 then w.code(0x30 + v, 8)
  elseif v < 256 then w.code(0x190 + v - 144, 9)
  elseif v < 280 then w.code(v - 256, 7)
  else w.code(0xC0 + v - 280, 8) end
end

local function find_index(base, v)
  local i = #base
  while base[i] > v do i = i - 1 end
  return i
end

function M.deflate(data, stride)
  local w = bitwriter()
  w.bits(1, 1)   -- the last block
  w.bits(1, 2)   -- fixed codes
  local n, i = #data, 1
  local byte = string.byte
  while i <= n do
    local best, bestd = 0, 0
    for _, d in ipairs { stride, 3 } do
      if d > 0 and i - d >= 1 then
        local l = 0
        while l < 258 and i + l <= n and byte(data, i + l) == byte(data, i + l - d) do l = l + 1 end
        if l > best then best, bestd = l, d end
      end
    end
    if best >= 3 then
      local li = find_index(LEN_BASE, best)
      symbol(w, 256 + li)
      w.bits(best - LEN_BASE[li], LEN_EXTRA[li])
      local di = find_index(DIST_BASE, bestd)
      w.code(di - 1, 5)
      w.bits(bestd - DIST_BASE[di], DIST_EXTRA[di])
      i = i + best
    else
      symbol(w, byte(data, i))
      i = i + 1
    end
  end
  symbol(w, 256)   -- end of block
  return w.finish()
end

-- M.png(w, h, rows) -> PNG bytes; rows[y] is a string of w RGB triples
function M.png(w, h, rows)
  local raw = {}
  for y = 1, h do raw[y] = "\0" .. rows[y] end
  raw = concat(raw)
  local z = "\120\1" .. M.deflate(raw, 3 * w + 1) .. string.pack(">I4", adler32(raw))
  return "\137PNG\r\n\26\n" .. chunk("IHDR", string.pack(">I4I4BBBBB", w, h, 8, 2, 0, 0, 0))
    .. chunk("IDAT", z) .. chunk("IEND", "")
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

-- base64 (RFC 4648), for data: URIs
function M.base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local q = {}
    for k = 1, 4 do
      local v = (n >> (6 * (4 - k))) & 63
      q[k] = B64:sub(v + 1, v + 1)
    end
    if not b then q[3], q[4] = "=", "="
    elseif not c then q[4] = "=" end
    out[#out + 1] = concat(q)
  end
  return concat(out)
end

-- --- the allowlist -----------------------------------------------------------------

local ELEMENTS = { svg = true, g = true, defs = true, clipPath = true, rect = true,
  line = true, polyline = true, polygon = true, path = true, circle = true,
  text = true, tspan = true, title = true, image = true, linearGradient = true,
  stop = true }
local ATTRS = { xmlns = true, ["xmlns:xlink"] = true, width = true, height = true,
  viewBox = true, x = true, y = true, x1 = true, y1 = true, x2 = true, y2 = true,
  cx = true, cy = true, r = true, rx = true, d = true, points = true, fill = true,
  stroke = true, ["stroke-width"] = true, ["stroke-dasharray"] = true,
  ["stroke-linejoin"] = true, ["stroke-linecap"] = true, opacity = true,
  ["fill-opacity"] = true, ["stroke-opacity"] = true, ["font-family"] = true,
  ["font-size"] = true, ["font-style"] = true, ["font-weight"] = true,
  ["text-anchor"] = true, ["dominant-baseline"] = true, ["baseline-shift"] = true,
  transform = true, ["clip-path"] = true, id = true, href = true,
  preserveAspectRatio = true, ["image-rendering"] = true, offset = true,
  ["stop-color"] = true, ["shape-rendering"] = true, version = true,
  role = true, ["aria-label"] = true, dx = true, dy = true }

-- check(svg) -> true, or nil and why: only the elements and attributes
-- hebb.plot writes; references only inside the figure (url(#id)) or to an
-- embedded PNG; no entities, no comments, no processing instructions
function M.check(svg)
  if type(svg) ~= "string" then return nil, "not a string" end
  if svg:find("<!", 1, true) or svg:find("<?", 1, true) then
    return nil, "declarations, comments or CDATA"
  end
  for ent in svg:gmatch("&([^;%s<]*)") do
    if not (ent == "amp" or ent == "lt" or ent == "gt" or ent == "quot"
            or ent:match("^#%d+$") or ent:match("^#x%x+$")) then
      return nil, "an entity other than &amp; &lt; &gt; &quot;"
    end
  end
  local tags = 0
  for slash, tag, attrs in svg:gmatch("<(/?)([%w:]+)([^>]*)>") do
    tags = tags + 1
    if not ELEMENTS[tag] then return nil, "element <" .. tag .. ">" end
    if slash == "" then
      local rest = attrs:gsub("%s*/$", "")
      rest = rest:gsub('%s+([%w:%-]+)="([^"]*)"', function(name, value)
        if not ATTRS[name] then return "\0bad attribute " .. name .. "\0" end
        local v = value:lower()
        if name == "href" and not v:match("^data:image/png;base64,[%w+/=]*$") then
          return "\0a link to " .. value:sub(1, 40) .. "\0"
        end
        if v:find("url%(") and not v:match("^url%(#[%w_-]+%)$") then
          return "\0a url() outside the figure\0"
        end
        if v:find("javascript:", 1, true) or v:find("expression", 1, true) then
          return "\0script in an attribute\0"
        end
        return ""
      end)
      local why = rest:match("%z(.-)%z")
      if why then return nil, why end
      if rest:find("%S") then return nil, "cannot read attributes '" .. rest:sub(1, 40) .. "'" end
    end
  end
  if select(2, svg:gsub("<", "")) ~= tags then return nil, "a '<' that opens no element" end
  return true
end

return M
