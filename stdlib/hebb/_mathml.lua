-- hebb._mathml: the LaTeX that physicists write in notebooks' $...$,
-- turned into MathML, which browsers draw natively (MathML Core: Chromium
-- since 109, Firefox, Safari) -- so a rendered notebook shows its formulas
-- without loading anything from the network.
--
-- The subset: letters, numbers, operators; ^ and _ (with braces); \frac,
-- \sqrt (with an index), \left ... \right; Greek letters; \sum, \prod, \int
-- with limits; function names (\sin, \exp, \ln, ..., \operatorname{..});
-- relations, arrows and other symbols; accents (\hat, \bar, \tilde, \dot,
-- \ddot, \vec, \overline); fonts (\mathrm, \mathbf, \mathcal, \mathbb,
-- \boldsymbol, \text); spaces; matrix, pmatrix, bmatrix, vmatrix, cases and
-- aligned environments.  An unknown command is shown as an error in red,
-- never dropped silently.
local fmt, concat = string.format, table.concat

local M = {}

local function esc(s)
  return (s:gsub("[&<>\"]", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;",
                              ['"'] = "&quot;" }))
end
M.escape = esc

local GREEK = {
  alpha = "α", beta = "β", gamma = "γ", delta = "δ", epsilon = "ϵ",
  varepsilon = "ε", zeta = "ζ", eta = "η", theta = "θ", vartheta = "ϑ",
  iota = "ι", kappa = "κ", lambda = "λ", mu = "μ", nu = "ν", xi = "ξ",
  pi = "π", varpi = "ϖ", rho = "ρ", varrho = "ϱ", sigma = "σ",
  varsigma = "ς", tau = "τ", upsilon = "υ", phi = "ϕ", varphi = "φ",
  chi = "χ", psi = "ψ", omega = "ω",
  Gamma = "Γ", Delta = "Δ", Theta = "Θ", Lambda = "Λ", Xi = "Ξ", Pi = "Π",
  Sigma = "Σ", Upsilon = "Υ", Phi = "Φ", Psi = "Ψ", Omega = "Ω",
}

-- identifiers that are not letters of a formula
local SYMBOL_MI = { infty = "∞", partial = "∂", nabla = "∇", hbar = "ℏ",
  ell = "ℓ", emptyset = "∅", Re = "ℜ", Im = "ℑ", aleph = "ℵ" }

local OPS = {
  cdot = "⋅", times = "×", div = "÷", pm = "±", mp = "∓", ast = "∗",
  star = "⋆", circ = "∘", bullet = "∙", otimes = "⊗", oplus = "⊕",
  wedge = "∧", vee = "∨", cap = "∩", cup = "∪", setminus = "∖",
  le = "≤", leq = "≤", ge = "≥", geq = "≥", ne = "≠", neq = "≠",
  ll = "≪", gg = "≫", approx = "≈", sim = "∼", simeq = "≃", cong = "≅",
  equiv = "≡", propto = "∝", ["in"] = "∈", notin = "∉", ni = "∋",
  subset = "⊂", supset = "⊃", subseteq = "⊆", supseteq = "⊇",
  perp = "⊥", parallel = "∥", mid = "∣",
  to = "→", rightarrow = "→", leftarrow = "←", gets = "←",
  leftrightarrow = "↔", Rightarrow = "⇒", Leftarrow = "⇐",
  Leftrightarrow = "⇔", implies = "⟹", iff = "⟺", mapsto = "↦",
  uparrow = "↑", downarrow = "↓", longrightarrow = "⟶",
  forall = "∀", exists = "∃", neg = "¬", lnot = "¬",
  ldots = "…", cdots = "⋯", dots = "…", vdots = "⋮", ddots = "⋱",
  langle = "⟨", rangle = "⟩", lvert = "|", rvert = "|", lVert = "‖",
  rVert = "‖", vert = "|", Vert = "‖", ["|"] = "‖", lfloor = "⌊",
  rfloor = "⌋", lceil = "⌈", rceil = "⌉", dagger = "†", prime = "′",
  ["{"] = "{", ["}"] = "}", ["%"] = "%", ["&"] = "&amp;", ["#"] = "#",
  ["_"] = "_", ["$"] = "$", colon = ":",
}

local BIG = { sum = "∑", prod = "∏", coprod = "∐", int = "∫", iint = "∬",
  iiint = "∭", oint = "∮", bigcup = "⋃", bigcap = "⋂", bigoplus = "⨁",
  bigotimes = "⨂" }

local FUNCS = { sin = 1, cos = 1, tan = 1, cot = 1, sec = 1, csc = 1,
  arcsin = 1, arccos = 1, arctan = 1, sinh = 1, cosh = 1, tanh = 1, coth = 1,
  exp = 1, log = 1, ln = 1, lg = 1, det = 1, dim = 1, ker = 1, deg = 1,
  arg = 1, min = 1, max = 1, sup = 1, inf = 1, lim = 1, liminf = 1,
  limsup = 1, Pr = 1, gcd = 1, tr = 1, Tr = 1, sgn = 1, erf = 1 }
local LIMIT_FUNCS = { lim = 1, liminf = 1, limsup = 1, min = 1, max = 1,
  sup = 1, inf = 1 }

local SPACES = { [","] = "0.1667em", [":"] = "0.2222em", [";"] = "0.2778em",
  ["!"] = "-0.1667em", [" "] = "0.25em", quad = "1em", qquad = "2em" }

local ACCENTS = { hat = "^", widehat = "^", bar = "‾", overline = "‾",
  tilde = "~", widetilde = "~", dot = "˙", ddot = "¨", vec = "→",
  check = "ˇ", breve = "˘" }

local FONTS = { mathrm = "normal", mathbf = "bold", mathit = "italic",
  mathcal = "script", mathscr = "script", mathbb = "double-struck",
  mathfrak = "fraktur", mathsf = "sans-serif", mathtt = "monospace",
  boldsymbol = "bold-italic", bm = "bold-italic" }

-- MathML Core (what Chromium draws) honours only mathvariant="normal", so
-- the other alphabets are written with Unicode's mathematical letters;
-- the holes of each block are letters that existed before (ℝ, ℒ, ...)
local ALPHABETS = {
  bold = { upper = 0x1D400, lower = 0x1D41A, digit = 0x1D7CE },
  ["bold-italic"] = { upper = 0x1D468, lower = 0x1D482 },
  script = { upper = 0x1D49C, lower = 0x1D4B6, holes = { B = "ℬ", E = "ℰ", F = "ℱ",
    H = "ℋ", I = "ℐ", L = "ℒ", M = "ℳ", R = "ℛ", e = "ℯ", g = "ℊ", o = "ℴ" } },
  ["double-struck"] = { upper = 0x1D538, lower = 0x1D552, digit = 0x1D7D8,
    holes = { C = "ℂ", H = "ℍ", N = "ℕ", P = "ℙ", Q = "ℚ", R = "ℝ", Z = "ℤ" } },
  fraktur = { upper = 0x1D504, lower = 0x1D51E, holes = { C = "ℭ", H = "ℌ",
    I = "ℑ", R = "ℜ", Z = "ℨ" } },
  ["sans-serif"] = { upper = 0x1D5A0, lower = 0x1D5BA, digit = 0x1D7E2 },
  monospace = { upper = 0x1D670, lower = 0x1D68A, digit = 0x1D7F6 },
}

local function restyle(text, variant)
  local a = ALPHABETS[variant]
  if not a then return esc(text) end
  return (text:gsub("[%w]", function(c)
    if a.holes and a.holes[c] then return a.holes[c] end
    if c:match("%u") then return utf8.char(a.upper + c:byte() - 65) end
    if c:match("%l") then return utf8.char(a.lower + c:byte() - 97) end
    if a.digit then return utf8.char(a.digit + c:byte() - 48) end
    return c
  end))
end

local ENVS = { matrix = { "", "" }, pmatrix = { "(", ")" },
  bmatrix = { "[", "]" }, Bmatrix = { "{", "}" }, vmatrix = { "|", "|" },
  Vmatrix = { "‖", "‖" }, cases = { "{", "" }, aligned = { "", "" },
  align = { "", "" }, ["align*"] = { "", "" }, array = { "", "" } }

-- --- tokens ---------------------------------------------------------------------

local function tokenize(s)
  local toks, i, n = {}, 1, #s
  while i <= n do
    local c = s:sub(i, i)
    if c == "\\" then
      local name = s:match("^%a+", i + 1)
      if name then
        toks[#toks + 1] = { "cmd", name }
        i = i + 1 + #name
      else
        local ch = s:sub(i + 1, i + 1)
        toks[#toks + 1] = { ch == "\\" and "newline" or "cmd", ch }
        i = i + 2
      end
    elseif c:match("%s") then
      i = i + 1
    elseif c:match("%d") or (c == "." and s:sub(i + 1, i + 1):match("%d")) then
      local num = s:match("^%d*%.?%d+", i) or s:match("^%d+", i)
      toks[#toks + 1] = { "num", num }
      i = i + #num
    elseif c:match("%a") then
      toks[#toks + 1] = { "letter", c }
      i = i + 1
    else
      local ch = s:match("^[%z\1-\127\194-\244][\128-\191]*", i)
      toks[#toks + 1] = { "char", ch }
      i = i + #ch
    end
  end
  return toks
end

-- --- parser ----------------------------------------------------------------------

local Parser = {}
Parser.__index = Parser

function Parser:peek() return self.toks[self.pos] end
function Parser:next()
  local t = self.toks[self.pos]
  self.pos = self.pos + 1
  return t
end

local function mo(s, attrs) return "<mo" .. (attrs or "") .. ">" .. s .. "</mo>" end
local function merror(s)
  return '<merror><mtext>' .. esc(s) .. '</mtext></merror>'
end
local function row(items)
  if #items == 1 then return items[1] end
  return "<mrow>" .. concat(items) .. "</mrow>"
end

-- a {group}, or a single token as an argument
function Parser:arg()
  local t = self:peek()
  if not t then return merror("missing argument") end
  if t[1] == "char" and t[2] == "{" then
    self:next()
    local r = self:expr("}")
    self:next()
    return row(r)
  end
  return self:atom()
end

-- the raw text of a {group} (for \text, \mathrm names, \begin)
function Parser:text_arg()
  local t = self:peek()
  if not (t and t[1] == "char" and t[2] == "{") then
    if t then self:next(); return t[2] end
    return ""
  end
  -- \text{...} keeps its spaces: read from the source, not the tokens
  self:next()
  local parts, depth = {}, 1
  while true do
    local u = self:next()
    if not u then break end
    if u[1] == "char" and u[2] == "{" then depth = depth + 1
    elseif u[1] == "char" and u[2] == "}" then
      depth = depth - 1
      if depth == 0 then break end
    end
    parts[#parts + 1] = (u[1] == "cmd" and "\\" or "") .. u[2]
  end
  return concat(parts)
end

function Parser:fenced(open)
  local close
  local items = { mo(open == "." and "" or esc(OPS[open] or open), ' fence="true" stretchy="true"') }
  for _, x in ipairs(self:expr("right")) do items[#items + 1] = x end
  local t = self:next()   -- \right
  if t then
    local d = self:next()
    close = d and (d[1] == "cmd" and (OPS[d[2]] or d[2]) or d[2]) or ""
  end
  items[#items + 1] = mo(close == "." and "" or esc(close or ""), ' fence="true" stretchy="true"')
  return "<mrow>" .. concat(items) .. "</mrow>"
end

function Parser:environment(name)
  local fence = ENVS[name]
  if not fence then return merror("\\begin{" .. name .. "}") end
  if name == "array" then self:text_arg() end   -- the column spec
  local rows, cells = {}, {}
  local cell = {}
  while true do
    local t = self:peek()
    if not t then break end
    if t[1] == "cmd" and t[2] == "end" then
      self:next(); self:text_arg(); break
    elseif t[1] == "char" and t[2] == "&" then
      self:next(); cells[#cells + 1] = row(cell); cell = {}
    elseif t[1] == "newline" then
      self:next(); cells[#cells + 1] = row(cell); cell = {}
      rows[#rows + 1] = cells; cells = {}
    else
      local items = self:expr("cell")
      for _, x in ipairs(items) do cell[#cell + 1] = x end
    end
  end
  if #cell > 0 or #cells > 0 then cells[#cells + 1] = row(cell); rows[#rows + 1] = cells end
  local out = {}
  local align = (name == "cases" or name:match("^align")) and ' columnalign="left"' or ""
  for _, r in ipairs(rows) do
    local tds = {}
    for _, c in ipairs(r) do tds[#tds + 1] = "<mtd" .. align .. ">" .. c .. "</mtd>" end
    out[#out + 1] = "<mtr>" .. concat(tds) .. "</mtr>"
  end
  local tbl = "<mtable>" .. concat(out) .. "</mtable>"
  if fence[1] == "" and fence[2] == "" then return tbl end
  return "<mrow>" .. mo(esc(fence[1]), ' fence="true" stretchy="true"') .. tbl
    .. mo(esc(fence[2]), ' fence="true" stretchy="true"') .. "</mrow>"
end

-- one atom (before any ^ or _); returns the MathML and whether it takes
-- its scripts under/over (big operators, lim in display style)
function Parser:atom()
  local t = self:next()
  local kind, v = t[1], t[2]
  if kind == "num" then return "<mn>" .. v .. "</mn>" end
  if kind == "letter" then return "<mi>" .. v .. "</mi>" end
  if kind == "char" then
    if v == "{" then
      local r = self:expr("}")
      self:next()
      return row(r)
    end
    if v == "-" then return mo("−") end
    if v == "'" then return mo("′") end
    if v == "}" then return merror("}") end
    if v == "~" then return '<mspace width="0.25em"/>' end
    -- plain brackets keep their size, as in TeX (only \left/\right grow)
    if v:match("^[%(%)%[%]|]$") then return mo(esc(v), ' stretchy="false"') end
    return mo(esc(v))
  end
  if kind == "newline" then return '<mspace linebreak="newline"/>' end
  -- commands
  if GREEK[v] then
    local upright = v:match("^%u") and ' mathvariant="normal"' or ""
    return "<mi" .. upright .. ">" .. GREEK[v] .. "</mi>"
  end
  if SYMBOL_MI[v] then return "<mi>" .. SYMBOL_MI[v] .. "</mi>" end
  if OPS[v] then return mo(OPS[v]) end
  if BIG[v] then return mo(BIG[v], ' largeop="true"'), not v:match("int$") end
  -- a function name takes its scripts, then the (invisible) application
  if FUNCS[v] then return "<mi>" .. v .. "</mi>", LIMIT_FUNCS[v], mo("&#x2061;") end
  if SPACES[v] then return '<mspace width="' .. SPACES[v] .. '"/>' end
  if v == "frac" or v == "dfrac" or v == "tfrac" then
    local a = self:arg()
    local b = self:arg()
    return "<mfrac>" .. a .. b .. "</mfrac>"
  end
  if v == "binom" then
    local a, b = self:arg(), self:arg()
    return "<mrow>" .. mo("(") .. '<mfrac linethickness="0">' .. a .. b
      .. "</mfrac>" .. mo(")") .. "</mrow>"
  end
  if v == "sqrt" then
    local nxt = self:peek()
    if nxt and nxt[1] == "char" and nxt[2] == "[" then
      self:next()
      local idx = self:expr("]")
      self:next()
      return "<mroot>" .. self:arg() .. row(idx) .. "</mroot>"
    end
    return "<msqrt>" .. self:arg() .. "</msqrt>"
  end
  if ACCENTS[v] then
    return '<mover accent="true">' .. self:arg() .. mo(ACCENTS[v]) .. "</mover>"
  end
  if v == "underline" then
    return '<munder accentunder="true">' .. self:arg() .. mo("_") .. "</munder>"
  end
  if FONTS[v] then
    local variant = FONTS[v]
    local nxt = self:peek()
    local simple = nxt and nxt[1] == "char" and nxt[2] == "{"
    if simple then
      local txt = self:text_arg()
      if txt:match("^[%w%s]*$") then
        if variant == "italic" then return "<mi>" .. esc(txt) .. "</mi>" end
        return '<mi mathvariant="normal">' .. restyle(txt, variant) .. "</mi>"
      end
      local inner = setmetatable({ toks = tokenize(txt), pos = 1 }, Parser)
      return '<mstyle mathvariant="' .. variant .. '">' .. row(inner:expr()) .. "</mstyle>"
    end
    return '<mstyle mathvariant="' .. variant .. '">' .. self:arg() .. "</mstyle>"
  end
  if v == "text" or v == "textrm" or v == "mbox" or v == "textit" then
    return "<mtext>" .. esc(self:text_arg()) .. "</mtext>"
  end
  if v == "operatorname" then
    return "<mi>" .. esc(self:text_arg()) .. "</mi>", false, mo("&#x2061;")
  end
  if v == "left" then
    local d = self:next()
    return self:fenced(d and (d[1] == "cmd" and d[2] or d[2]) or ".")
  end
  if v == "big" or v == "Big" or v == "bigg" or v == "Bigg" or v == "bigl"
    or v == "bigr" or v == "Bigl" or v == "Bigr" then
    local d = self:next()
    if not d then return "" end
    return mo(esc(d[1] == "cmd" and (OPS[d[2]] or d[2]) or d[2]), ' stretchy="false" minsize="1.6em"')
  end
  if v == "begin" then return self:environment(self:text_arg()) end
  if v == "displaystyle" or v == "limits" or v == "nolimits" then return "" end
  return merror("\\" .. v)
end

-- a sequence of atoms with their scripts, up to the end, a closing token
-- ("}", "]", "right") or, in a matrix cell, & and \\
function Parser:expr(stop)
  local items = {}
  while true do
    local t = self:peek()
    if not t then break end
    if stop == "}" and t[1] == "char" and t[2] == "}" then break end
    if stop == "]" and t[1] == "char" and t[2] == "]" then break end
    if stop == "right" and t[1] == "cmd" and t[2] == "right" then break end
    if stop == "cell" and ((t[1] == "char" and t[2] == "&") or t[1] == "newline"
        or (t[1] == "cmd" and t[2] == "end")) then break end
    if t[1] == "char" and (t[2] == "^" or t[2] == "_") then
      items[#items + 1] = self:scripts("<mrow></mrow>", false)
    else
      local base, under, after = self:atom()
      items[#items + 1] = self:scripts(base, under) .. (after or "")
    end
  end
  return items
end

function Parser:scripts(base, under)
  local sub, sup
  for _ = 1, 2 do
    local t = self:peek()
    if t and t[1] == "char" and t[2] == "_" and not sub then
      self:next(); sub = self:arg()
    elseif t and t[1] == "char" and t[2] == "^" and not sup then
      self:next(); sup = self:arg()
    elseif t and t[1] == "char" and t[2] == "'" and not sup then
      self:next(); sup = mo("′")
    end
  end
  if under and self.display then
    if sub and sup then return "<munderover>" .. base .. sub .. sup .. "</munderover>" end
    if sub then return "<munder>" .. base .. sub .. "</munder>" end
    if sup then return "<mover>" .. base .. sup .. "</mover>" end
  end
  if sub and sup then return "<msubsup>" .. base .. sub .. sup .. "</msubsup>" end
  if sub then return "<msub>" .. base .. sub .. "</msub>" end
  if sup then return "<msup>" .. base .. sup .. "</msup>" end
  return base
end

-- M.convert(tex [, display]) -> "<math ...>...</math>"
function M.convert(tex, display)
  local p = setmetatable({ toks = tokenize(tex), pos = 1, display = display }, Parser)
  local items = {}
  while p:peek() do
    for _, x in ipairs(p:expr()) do items[#items + 1] = x end
    local t = p:peek()
    if t then   -- a stray closing token
      p:next()
      items[#items + 1] = merror(t[1] == "cmd" and "\\" .. t[2] or t[2])
    end
  end
  local attrs = display and ' display="block"' or ""
  return fmt('<math%s><semantics><mrow>%s</mrow><annotation encoding="application/x-tex">%s</annotation></semantics></math>',
             attrs, concat(items), esc(tex))
end

return M
