-- test_nn.lua -- hebb.nn's module system (stdlib/hebb/nn.lua): classes,
-- registries of parameters, buffers and children, dotted names, tied
-- weights, train/eval, state_dict round trips and their errors, printing,
-- containers.  Layers, convolutions, parametrizations and losses have their
-- own suites (test_nn_*.lua).
local check = require "check"
local T = require "hebb.tensor"
local nn = require "hebb.nn"
local autograd = require "hebb.autograd"
local test, eq, same, raises = check.test, check.eq, check.same, check.raises

local function names(list)
  local out = {}
  for i, e in ipairs(list) do out[i] = e[1] end
  return table.concat(out, " ")
end

-- a user-defined module: a two-layer perceptron with a scale parameter and
-- a counter buffer
local MLP = nn.Module:extend("MLP")
function MLP:__init(n_in, n_hidden, n_out)
  self.fc1 = nn.Linear(n_in, n_hidden)
  self.fc2 = nn.Linear(n_hidden, n_out)
  self.scale = nn.Parameter(T.ones(1))
  self:register_buffer("calls", T.zeros(1))
  self.note = "plain field"
end
function MLP:forward(x)
  self.calls:add_(1)
  return self.fc2(T.tanh(self.fc1(x))) * self.scale
end

test("class_and_call", function()
  T.manual_seed(1)
  local m = MLP(3, 5, 2)
  eq(m.__name, "MLP")
  check.truthy(nn.isinstance(m, MLP) and nn.isinstance(m, nn.Module), "isinstance")
  check.truthy(not nn.isinstance(m, nn.Linear), "not a Linear")
  eq(nn.classes.MLP, MLP)
  local x = T.randn(4, 3)
  local y = m(x)
  same(y.shape, { 4, 2 })
  -- the same numbers written out by hand
  local h = T.tanh(x:matmul(m.fc1.weight:t()) + m.fc1.bias)
  local want = h:matmul(m.fc2.weight:t()) + m.fc2.bias
  autograd.no_grad(function() same(y, want, 0) end)
  eq(m.calls[1], 1.0)
  eq(m.note, "plain field")
end)

test("named_parameters_order_and_names", function()
  local m = MLP(3, 5, 2)
  eq(names(m:named_parameters()), "scale fc1.weight fc1.bias fc2.weight fc2.bias")
  eq(#m:parameters(), 5)
  eq(m:num_parameters(), 1 + 15 + 5 + 10 + 2)
  eq(names(m:named_parameters { recurse = false }), "scale")
  eq(names(m:named_buffers()), "calls")
  eq(names(m:named_children()), "fc1 fc2")
  eq(names(m:named_modules()), " fc1 fc2")
  local seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
  eq(names(seq:named_parameters()), "1.weight 1.bias 3.weight 3.bias")
  eq(#seq, 3)
  eq(seq[2].__name, "ReLU")
  for _, p in ipairs(seq:parameters()) do check.truthy(p.requires_grad, "requires grad") end
end)

test("shared_and_tied_deduplicated", function()
  local a, b = nn.Linear(3, 3), nn.Linear(3, 3)
  b.weight = a.weight                          -- tie by assignment
  local seq = nn.Sequential(a, b, a)           -- a shared module, twice
  eq(names(seq:named_parameters()), "1.weight 1.bias 2.bias")
  eq(#seq:parameters(), 3)
  -- the state_dict keeps every name, so loading restores each place
  local keys = {}
  for k in pairs(seq:state_dict()) do keys[#keys + 1] = k end
  table.sort(keys)
  eq(table.concat(keys, " "), "1.bias 1.weight 2.bias 2.weight 3.bias 3.weight")
  -- the gradient of a tied weight accumulates both uses
  local x = T.randn(2, 3)
  local y = b(a(x)):sum()
  y:backward()
  local g = a.weight.grad
  local Wt = a.weight:detach()
  autograd.no_grad(function()
    -- d/dW sum(W (W x + c) + d) over both uses, by hand
    local h = x:matmul(Wt:t()) + a.bias:detach()
    local ones = T.ones(2, 3)
    local want = ones:t():matmul(h) + (ones:matmul(Wt)):t():matmul(x)
    same(g, want, 1e-12)
  end)
end)

test("zero_grad", function()
  local m = nn.Linear(2, 2)
  m(T.randn(3, 2)):sum():backward()
  check.truthy(m.weight.grad ~= nil, "grad after backward")
  m:zero_grad(false)
  same(m.weight.grad, T.zeros(2, 2))
  m:zero_grad()
  eq(m.weight.grad, nil)
end)

test("train_eval", function()
  local m = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5)))
  eq(m.training, true)
  m:eval()
  eq(m.training, false); eq(m[2][1].training, false)
  m:train()
  eq(m[2][1].training, true)
end)

test("state_dict_round_trip", function()
  T.manual_seed(2)
  local m1 = MLP(3, 4, 2)
  T.manual_seed(3)
  local m2 = MLP(3, 4, 2)
  local x = T.randn(5, 3)
  local sd = m1:state_dict()
  eq(sd["fc1.weight"].requires_grad, false)
  check.truthy(not T.shares_storage(sd["fc1.weight"], m1.fc1.weight), "a copy")
  -- the state_dict is a copy: changing it leaves m1 alone
  sd["fc2.bias"]:fill_(0)
  check.truthy(m1.fc2.bias:detach():abs():sum() > 0, "m1 unchanged")
  sd = m1:state_dict()
  m2:load_state_dict(sd)
  autograd.no_grad(function() same(m2(x), m1(x), 0) end)
  -- parameters keep their identity (an optimizer holding them still works)
  local w = m2.fc1.weight
  eq(m2.calls[1], 1.0)       -- one call since the load
  m2:load_state_dict(sd)
  eq(m2.fc1.weight, w)
  eq(m2.calls[1], 0.0)       -- the buffer restored too
end)

test("load_state_dict_errors", function()
  local m = nn.Sequential(nn.Linear(2, 3))
  local sd = m:state_dict()
  local before = m[1].weight:detach():clone()
  sd["1.bias"] = nil
  sd["1.extra"] = T.zeros(1)
  sd["1.weight"] = T.zeros(2, 3)
  local ok, err = pcall(m.load_state_dict, m, sd)
  check.truthy(not ok, "raises")
  check.truthy(err:find("missing keys: 1.bias", 1, true), err)
  check.truthy(err:find("unexpected keys: 1.extra", 1, true), err)
  check.truthy(err:find("1.weight has shape {2,3} in the state_dict but {3,2} in the module", 1, true), err)
  same(m[1].weight:detach(), before)       -- nothing copied
  -- strict = false tolerates missing and unexpected keys (not shapes)
  sd["1.weight"] = T.ones(3, 2)
  local r = m:load_state_dict(sd, { strict = false })
  eq(r.missing[1], "1.bias"); eq(r.unexpected[1], "1.extra")
  same(m[1].weight:detach(), T.ones(3, 2))
  raises(function() m:load_state_dict({ ["1.weight"] = 5, ["1.bias"] = T.zeros(3) }) end,
         "1.weight must be a tensor, got 5")
  raises(function() m:load_state_dict(3) end, "expected a table name -> tensor, got 3")
end)

test("printing", function()
  local m = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Residual(nn.Linear(3, 3, { bias = false })))
  eq(tostring(m), table.concat({
    "Sequential(",
    "  (1): Linear(in_features=4, out_features=3, bias=true)",
    "  (2): Tanh()",
    "  (3): Residual(",
    "    (fn): Linear(in_features=3, out_features=3, bias=false)",
    "  )",
    ")" }, "\n"))
  eq(tostring(nn.Linear), "nn.Linear (a module class)")
end)

test("residual_and_containers", function()
  local f = nn.Linear(3, 3)
  local r = nn.Residual(f)
  local x = T.randn(2, 3)
  autograd.no_grad(function() same(r(x), x + f(x), 0) end)
  eq(names(r:named_parameters()), "fn.weight fn.bias")
  local l = nn.ModuleList { nn.Linear(1, 1), nn.Linear(1, 2) }
  eq(names(l:named_parameters()), "1.weight 1.bias 2.weight 2.bias")
  l:add(nn.Tanh())
  eq(#l, 3)
  raises(function() l(x) end, "has no forward")
  local d = nn.ModuleDict { b = nn.Linear(1, 1), a = nn.Tanh() }
  eq(names(d:named_children()), "a b")
  local s = nn.Sequential { nn.Tanh(), nn.ReLU() }
  eq(#s, 2)
end)

test("to_dtype", function()
  local a = nn.Linear(2, 2)
  local m = nn.Sequential(a, nn.Linear(2, 2))
  m[2].weight = a.weight
  m:to("f32")
  eq(m[1].weight.dtype, "f32"); eq(m[2].bias.dtype, "f32")
  eq(m[1].weight, m[2].weight)                 -- still shared
  check.truthy(m[1].weight.requires_grad, "still a parameter")
  eq(#m:parameters(), 3)
  eq(m(T.randn(1, 2, { dtype = "f32" })).dtype, "f32")
end)

test("registration_errors", function()
  raises(function() nn.Module:extend("not a name") end, "must be an identifier")
  raises(function() nn.Module.extend({}, "X") end, "call it on a module class")
  local Empty = nn.Module:extend("Empty")
  raises(function() Empty()(T.zeros(1)) end, "nn.Empty: forward is not defined")
  local m = Empty()
  m.cached = T.zeros(2):requires_grad_()      -- not an nn.Parameter: a plain field
  eq(#m:parameters(), 0)
  raises(function() m:register_parameter("p", {}) end, "\"p\" must be a tensor or nil, got a table")
  raises(function() m:register_buffer("b", 3) end, "\"b\" must be a tensor or nil, got 3")
  raises(function() m:register_parameter("a.b", T.zeros(1)) end, "must not contain '.'")
  raises(function() m:add_module("c", 3) end, "\"c\" must be a module, got 3")
  raises(function() nn.Sequential(nn.Tanh(), 3) end, "nn.Sequential: argument 2 must be a module, got 3")
  raises(function() nn.Parameter(T.zeros(2, { dtype = "i64" })) end, "must be a float tensor, got dtype i64")
  raises(function() nn.Residual(3) end, "nn.Residual: expected a module")
  -- a non-persistent buffer is not in the state_dict
  m:register_buffer("tmp", T.zeros(2), false)
  m:register_buffer("kept", T.zeros(2))
  local sd = m:state_dict()
  eq(sd.tmp, nil); check.truthy(sd.kept ~= nil, "persistent buffer saved")
end)

-- hebb.nn opens OpenBLAS when it loads (nn.lua), so that a model's first
-- step does not pay for the dlopen; hebb alone does not (start-up stays
-- light).  Run in fresh processes: this one has long loaded it.
test("nn_opens_blas_when_it_loads", function()
  local hebb_bin = os.getenv("HEBB") or "build/hebb"
  local function mapped(chunk)
    local p = io.popen(hebb_bin .. " -e '" .. chunk .. [[
      for l in io.lines("/proc/self/maps") do
        if l:find("libopenblas", 1, true) then print("yes") return end
      end
      print("no")']])
    local r = p:read("l")
    p:close()
    return r
  end
  eq(mapped('require "hebb"'), "no", "hebb alone leaves OpenBLAS closed")
  eq(mapped('require "hebb.nn"'), "yes", "hebb.nn opens it")
  local info = require("hebb").blas()
  check.ok("hebb.blas names the kernel core", info:find("(core ", 1, true) ~= nil, info)
end)

check.done()
