-- test_badargs_lua.lua -- the public functions of hebb's Lua modules
-- (autograd, optim, nn, data, metrics, io, graph and tensor.lua's helpers)
-- called with wrong types, nil, negative/zero/huge/NaN sizes, unknown
-- options and wrong dtypes.  Each row pins the whole message: it names the
-- function, the argument and the value, and is positioned at the row's own
-- line (the user's line, not a library line).  The C-bound functions of
-- hebb.tensor/linalg/fft/sparse have their own suite.
local check = require "check"
local T = require "hebb.tensor"
local A = require "hebb.autograd"

local FILE = debug.getinfo(1, "S").short_src

-- each row {function() call end, message}, written on one line
local function rows(group, list)
  for i, r in ipairs(list) do
    local line = debug.getinfo(r[1], "S").linedefined
    local want = FILE .. ":" .. line .. ": " .. r[2]
    local ok, err = pcall(r[1])
    check.ok(group .. "_" .. i, not ok and err == want,
      ok and "no error, want: " .. want or "got:  " .. tostring(err) .. "\nwant: " .. want)
  end
end

local x = T.ones(2)
local xt = T.ones(2):requires_grad_()
local i64 = T.ones(2, { dtype = "i64" })
local f = function(z) return (z * z):sum() end
local nan = 0 / 0

rows("autograd", {
  { function() A.defrule("add", 5) end, "autograd.defrule: fn must be a function, got 5" },
  { function() A.defrule(5, f) end, "autograd.defrule: name must be a string, got 5" },
  { function() A.defrule("myop", f, { save = { 1 } }) end, "autograd.defrule: unknown option \"save\" (did you mean 'saves'?)" },
  { function() A.defrule("myop", f, { saves = { -1 } }) end, "autograd.defrule: opts.saves[1] must be an integer >= 0, got -1" },
  { function() A.defrule("myop", f, 3) end, "autograd.defrule: options must be a table, got 3" },
  { function() A.nondiff("a", 3) end, "autograd.nondiff: argument 2 must be a string, got 3" },
  { function() A.no_grad(3) end, "autograd.no_grad: fn must be a function, got 3" },
  { function() A.enable_grad() end, "autograd.enable_grad: fn must be a function, got nil" },
  { function() A.set_grad_enabled("yes") end, "autograd.set_grad_enabled: flag must be true or false, got \"yes\"" },
  { function() A.grad("x", {}) end, "autograd.grad: the first argument must be a function, a tensor or a non-empty list of tensors, got \"x\"" },
  { function() A.grad(f, {}) end, "autograd.grad: inputs must be a tensor or a non-empty list of tensors, got an empty table" },
  { function() A.grad(f, nil) end, "autograd.grad: inputs must be a tensor or a non-empty list of tensors, got nil" },
  { function() A.grad(f, x, { create_grpah = true }) end, "autograd.grad: unknown option \"create_grpah\" (did you mean 'create_graph'?)" },
  { function() A.grad(f, { x, 3 }) end, "autograd.grad: inputs[2] must be a tensor, got 3" },
  { function() A.grad(f, i64) end, "autograd.grad: input 1 has dtype i64; only floating-point tensors can be differentiated" },
  { function() A.grad(function() return "s" end, x) end, "autograd.grad: f must return a tensor or a number, got \"s\"" },
  { function() A.grad(xt:sum(), xt, { allow_unsed = true }) end, "autograd.grad: unknown option \"allow_unsed\" (did you mean 'allow_unused'?)" },
  { function() A.grad({}, xt) end, "autograd.grad: the first argument must be a function, a tensor or a non-empty list of tensors, got a table" },
  { function() A.grad(3, xt) end, "autograd.grad: the output is a Lua number, not a tensor that requires grad (a full reduction of tensors that do not require grad gives a number; call x:requires_grad_() on the inputs before computing it)" },
  { function() A.grad(xt:sum(), x) end, "autograd.grad: input 1 does not require grad" },
  { function() A.value_and_grad(3) end, "autograd.value_and_grad: f must be a function, got 3" },
  { function() A.Function(3) end, "autograd.Function: expected {forward = fn, backward = fn}, got 3" },
  { function() A.Function({ forward = f, backward = f, nmae = "x" }) end, "autograd.Function: unknown option \"nmae\" (did you mean 'name'?)" },
  { function() A.Function({ forward = f }) end, "autograd.Function: backward must be a function, got nil" },
  { function() A.unbroadcast(3, x) end, "autograd.unbroadcast: g must be a tensor, got 3" },
  { function() A.gradcheck(3, x) end, "autograd.gradcheck: f must be a function, got 3" },
  { function() A.gradcheck(f, {}) end, "autograd.gradcheck: inputs must be a tensor or a non-empty list of tensors, got an empty table" },
  { function() A.gradcheck(f, x, { esp = 1 }) end, "autograd.gradcheck: unknown option \"esp\" (did you mean 'eps'?)" },
  { function() A.gradcheck(f, x, { eps = 0 }) end, "autograd.gradcheck: eps must be a finite number > 0, got 0" },
  { function() A.gradcheck(f, x, { eps = nan }) end, "autograd.gradcheck: eps must be a finite number > 0, got nan" },
  { function() A.gradcheck(f, x, { atol = -1 }) end, "autograd.gradcheck: atol must be a finite number >= 0, got -1" },
  { function() A.gradcheck(f, x, { seed = 1.5 }) end, "autograd.gradcheck: seed must be an integer, got 1.5" },
  { function() A.gradcheck(f, T.ones(2, { dtype = "f32" })) end, "autograd.gradcheck: input 1 must be an f64 tensor (or c128: finite differences in lower precision are too coarse), got f32" },
  { function() A.gradcheck(function() return "s" end, x) end, "autograd.gradcheck: f must return a tensor or a number, got \"s\"" },
  { function() A.gradgradcheck(f, 5) end, "autograd.gradgradcheck: inputs must be a tensor or a non-empty list of tensors, got 5" },
  { function() A.gradgradcheck(f, x, { sed = 1 }) end, "autograd.gradgradcheck: unknown option \"sed\" (did you mean 'seed'?)" },
  { function() A.hvp(f, x, T.ones(3)) end, "autograd.hvp: v must be a tensor of 2 elements (shaped like x), got f64 tensor of shape {3}" },
  { function() A.hvp(f, 3, x) end, "autograd.hvp: x must be a tensor, got 3" },
  { function() A.hvp(nil, x, x) end, "autograd.hvp: f must be a function, got nil" },
  { function() A.hvp(f, i64, x) end, "autograd.hvp: x must be a floating-point tensor, got dtype i64" },
  { function() A.laplacian(f, x, { samples = 1, method = "hutchinson" }) end, "autograd.laplacian: samples must be an integer >= 2, got 1" },
  { function() A.laplacian(f, x, { sample = 10 }) end, "autograd.laplacian: unknown option \"sample\" (did you mean 'samples'?)" },
  { function() A.laplacian(f, x, { method = "hutchinson", samples = 1e300 }) end, "autograd.laplacian: samples must be an integer >= 2, got 1e+300" },
  { function() A.laplacian(f, x, { method = "hutchinson", seed = nan }) end, "autograd.laplacian: seed must be an integer, got nan" },
  { function() A.laplacian(f, x, { method = "bogus" }) end, "autograd.laplacian: method must be \"exact\" or \"hutchinson\", got \"bogus\"" },
  { function() A.jacobian(f, "x") end, "autograd.jacobian: x must be a tensor, got \"x\"" },
  { function() A.jacobian(function() return 3 end, x) end, "autograd.jacobian: f must return a tensor, got 3" },
  { function() x:requires_grad_("yes") end, "requires_grad_: flag must be true or false, got \"yes\"" },
  { function() i64:requires_grad_() end, "requires_grad_: only floating-point tensors can require grad (got i64)" },
  { function() xt:sum():backward({ retain_grpah = true }) end, "backward: unknown option \"retain_grpah\" (did you mean 'retain_graph'?)" },
  { function() xt:sum():backward(3) end, "backward: the gradient must be a tensor of shape {}, got 3" },
  { function() (x * 2):sum():backward() end, "backward: this is a Lua number, not a tensor: a full reduction of tensors that do not require grad gives a number.  Call x:requires_grad_() on the inputs before computing it, or use autograd.grad(f, x)" },
  { function() (x * 2):backward() end, "backward: the tensor does not require grad (nothing it was computed from requires grad)" },
  { function() (xt * 2):backward() end, "backward: a gradient is needed for a result of shape {2} (only one-element results get 1 by default)" },
  { function() x:retain_grad() end, "retain_grad: the tensor does not require grad" },
  { function() xt.grad = 3 end, "x.grad must be a tensor or nil, got 3" },
  { function() xt.grad = T.ones(3) end, "x.grad: gradient of shape {3} for a tensor of shape {2}" },
  { function() x.grad = T.ones(2) end, "x.grad: the tensor does not require grad (call x:requires_grad_())" },
  { function() local y = xt * 2; y:sum():backward(); y:sum():backward() end, "autograd: backward through 'mul' a second time: its saved values were freed (pass {retain_graph = true} to the first backward)" },
  { function() local y = T.ones(2):requires_grad_(); y:add_(1) end, "autograd: 'add_' would modify in place a leaf tensor that requires grad; do it inside autograd.no_grad" },
})

local optim = require "hebb.optim"
local adam = optim.Adam({ x })
local inf = math.huge

rows("optim", {
  { function() optim.Adam({ x }, { beta = { 0.9, 0.99 } }) end, "optim.Adam: unknown option \"beta\" (did you mean 'betas'?)" },
  { function() optim.Adam { beta = 0.9 } end, "optim.Adam: the first argument is the list of parameters, got a table of options (write optim.Adam(params, {...}))" },
  { function() optim.Adam({ x }, { lr = nan }) end, "optim.Adam: lr = nan must be a finite number" },
  { function() optim.Adam({ x }, { lr = inf }) end, "optim.Adam: lr = inf must be a finite number" },
  { function() optim.Adam({ x }, { lr = "0.1" }) end, "optim.Adam: lr = \"0.1\" must be a finite number" },
  { function() optim.Adam({ x }, { eps = -1 }) end, "optim.Adam: eps = -1 must be >= 0" },
  { function() optim.Adam({ x }, 0.1) end, "optim.Adam: options must be a table, got 0.1" },
  { function() optim.Adam(nil) end, "optim.Adam: params must be a tensor or a list of tensors, got nil" },
  { function() optim.Adam({}) end, "optim.Adam: params is an empty list" },
  { function() optim.Adam({ x, "w" }) end, "optim.Adam: params[2] must be a tensor, got \"w\"" },
  { function() optim.Adam({ i64 }) end, "optim.Adam: params[1] has dtype i64; parameters must be f64 or f32" },
  { function() optim.Adam({ x }, { betas = 0.9 }) end, "optim.Adam: betas = 0.9 must be a table {b1, b2} with 0 <= b < 1" },
  { function() optim.Adam({ x }, { amsgrad = 1 }) end, "optim.Adam: amsgrad = 1 must be true or false" },
  { function() optim.AdamW({ x }, { weight_decay = -1 }) end, "optim.AdamW: weight_decay = -1 must be >= 0" },
  { function() optim.SGD({ x }, { lr = 0.1, momentun = 0.9 }) end, "optim.SGD: unknown option \"momentun\" (did you mean 'momentum'?)" },
  { function() optim.SGD({ x }, {}) end, "optim.SGD: option lr is required" },
  { function() optim.RMSProp({ x }, { alpha = -0.5 }) end, "optim.RMSProp: alpha = -0.5 must be in [0, 1)" },
  { function() optim.Adagrad({ x }, { lr_decay = nan }) end, "optim.Adagrad: lr_decay = nan must be a finite number" },
  { function() optim.CovariantGD({ x }, { tau1 = -1 }) end, "optim.CovariantGD: tau1 = -1 must be >= 0" },
  { function() optim.CovariantGD({ x }, { power = "half" }) end, "optim.CovariantGD: power = \"half\" must be a finite number" },
  { function() optim.CovariantGD({ x }, { metric = 3 }) end, "optim.CovariantGD: unknown metric 3 (identity, diag, full or a function)" },
  { function() optim.CovariantGD({ x }, { metric = "full", moment = "third" }) end, "optim.CovariantGD: unknown moment \"third\" (second or covariance)" },
  { function() optim.Langevin({ x }, { lr = 0.1, temperature = -1 }) end, "optim.Langevin: temperature = -1 must be >= 0" },
  { function() optim.Langevin({ x }, { lr = 0.1, temprature = 1 }) end, "optim.Langevin: unknown option \"temprature\" (did you mean 'temperature'?)" },
  { function() optim.Langevin({ x }, { lr = 0.1, seed = 1.5 }) end, "optim.Langevin: seed = 1.5 must be an integer" },
  { function() optim.Hamiltonian({ x }, { lr = 0.1, mass = 0 }) end, "optim.Hamiltonian: mass = 0 must be > 0" },
  { function() optim.Hamiltonian({ x }, { lr = 0.1 }):step() end, "optim.Hamiltonian:step needs a closure that computes the loss and its gradient at the current point" },
  { function() optim.LBFGS({ x }, { history_size = 1e300 }) end, "optim.LBFGS: history_size = 1e+300 must be an integer >= 1" },
  { function() optim.LBFGS({ x }, { max_iter = 2.5 }) end, "optim.LBFGS: max_iter = 2.5 must be an integer >= 1" },
  { function() optim.LBFGS({ x }, { max_eval = -3 }) end, "optim.LBFGS: max_eval = -3 must be an integer >= 1" },
  { function() optim.LBFGS({ x }, { line_search = "armijo" }) end, "optim.LBFGS: unknown line_search \"armijo\" (strong_wolfe or none)" },
  { function() adam:step(5) end, "optim.Adam:step: closure must be a function, got 5" },
  { function() adam:update(5) end, "optim.Adam: the closure's second result must be a tensor or a list of tensors, got 5" },
  { function() adam:update({ "g" }) end, "optim.Adam: the gradient of params[1] must be a tensor, got \"g\"" },
  { function() adam:load_state_dict(5) end, "optim.Adam:load_state_dict: expected a state of optim.Adam, got 5" },
  { function() adam:load_state_dict({ name = "SGD" }) end, "optim.Adam:load_state_dict: expected a state of optim.Adam, got one of optim.SGD" },
  { function() optim.StepLR(adam, { step_size = 0 }) end, "optim.StepLR: step_size = 0 must be an integer >= 1" },
  { function() optim.StepLR(adam, { step_size = 2, gama = 0.5 }) end, "optim.StepLR: unknown option \"gama\" (did you mean 'gamma'?)" },
  { function() optim.StepLR(adam, { step_size = 2, warmup = -1 }) end, "optim.StepLR: warmup = -1 must be an integer >= 0" },
  { function() optim.StepLR(5, { step_size = 2 }) end, "optim.StepLR: the first argument must be an optimizer (a table with a number lr), got 5" },
  { function() optim.ExponentialLR(adam, {}) end, "optim.ExponentialLR: option gamma is required" },
  { function() optim.CosineAnnealingLR(adam, { T_max = nan }) end, "optim.CosineAnnealingLR: T_max = nan must be a finite number" },
  { function() optim.StepLR(adam, { step_size = 2 }):load_state_dict(3) end, "optim.StepLR:load_state_dict: the state must be a table, got 3" },
  { function() optim.sgd(function() return 0, x end, 3) end, "optim.sgd: x must be a tensor, got 3" },
  { function() optim.sgd(function() return 0, x end, x, 5) end, "optim.sgd: config must be a table, got 5" },
  { function() optim.lbfgs(nil, x) end, "optim.lbfgs: opfunc must be a function x -> f, df/dx, got nil" },
})

local data = require "hebb.data"
local X6 = T.zeros(6, 2)
local ds = data.Dataset(X6)
local loader = data.DataLoader({ X6 })

rows("data", {
  { function() loader:batches(-1) end, "DataLoader:batches: epoch must be an integer >= 1, got -1" },
  { function() loader:batches(0) end, "DataLoader:batches: epoch must be an integer >= 1, got 0" },
  { function() loader:batches(nan) end, "DataLoader:batches: epoch must be an integer >= 1, got nan" },
  { function() loader:permutation(nil) end, "DataLoader:permutation: epoch must be an integer >= 1, got nil" },
  { function() data.DataLoader({ X6 }, { batch_size = -1 }) end, "data.DataLoader: batch_size must be an integer >= 1, got -1" },
  { function() data.DataLoader({ X6 }, { batch_size = 1e300 }) end, "data.DataLoader: batch_size must be an integer >= 1, got 1e+300" },
  { function() data.DataLoader({ X6 }, { batchsize = 4 }) end, "data.DataLoader: unknown option \"batchsize\" (did you mean 'batch_size'?)" },
  { function() data.DataLoader({ X6 }, { shuffle = "yes" }) end, "data.DataLoader: shuffle must be true or false, got \"yes\"" },
  { function() data.DataLoader({ X6 }, { seed = 0.5 }) end, "data.DataLoader: seed must be an integer, got 0.5" },
  { function() data.DataLoader(nil) end, "data.DataLoader: expected tensors (or a list of them), got nil" },
  { function() data.DataLoader(5) end, "data.DataLoader: expected tensors (or a list of them), got 5" },
  { function() data.Dataset() end, "data.Dataset: expected tensors (or a list of them), got an empty list" },
  { function() data.Dataset(X6, 3) end, "data.Dataset: element 2 must be a tensor, got 3" },
  { function() data.Dataset(X6, T.zeros(5)) end, "data.Dataset: tensors must share their first dimension: tensor 1 has 6 samples, tensor 2 has 5" },
  { function() data.Dataset(T.tensor(1.0)) end, "data.Dataset: tensor 1 is 0-d; samples run along dimension 1" },
  { function() ds:get(0) end, "Dataset:get: index 0 out of range 1..6 (or -6..-1)" },
  { function() ds:get(7) end, "Dataset:get: index 7 out of range 1..6 (or -6..-1)" },
  { function() ds:get("a") end, "Dataset:get: index must be an integer, got \"a\"" },
  { function() data.read_idx(nil) end, "data.read_idx: path must be a string, got nil" },
  { function() data.read_idx("x.idx", { dtyp = "f32" }) end, "data.read_idx: unknown option \"dtyp\" (did you mean 'dtype'?)" },
  { function() data.read_idx("x.idx", 5) end, "data.read_idx: options must be a table or a dtype name, got 5" },
  { function() data.fashion_mnist("train", { flatt = false }) end, "data.fashion_mnist: unknown option \"flatt\" (did you mean 'flat'?)" },
  { function() data.fashion_mnist("train", { dir = 5 }) end, "data.fashion_mnist: dir must be a string, got 5" },
  { function() data.fashion_mnist(nil) end, "data.fashion_mnist: split must be \"train\" or \"test\", got nil" },
})

local metrics = require "hebb.metrics"
local trace = {}
for i = 1, 30 do trace[i] = math.exp(-i / 5) + 0.01 * math.sin(i) end
local progress = metrics.progress { tty = false }
local c128 = T.zeros(10, { dtype = "c128" })

rows("metrics", {
  { function() metrics.learning(trace, { strat = 2 }) end, "metrics.learning: unknown option \"strat\" (did you mean 'start'?)" },
  { function() metrics.learning(trace, { dt = nan }) end, "metrics.learning: dt must be a finite number > 0, got nan" },
  { function() metrics.learning(trace, { dt = inf }) end, "metrics.learning: dt must be a finite number > 0, got inf" },
  { function() metrics.learning(trace, { window = 0 }) end, "metrics.learning: window must be a finite number > 0, got 0" },
  { function() metrics.learning(trace, { rate_min = -1 }) end, "metrics.learning: rate_min must be a finite number > 0, got -1" },
  { function() metrics.learning(trace, { unit = 5 }) end, "metrics.learning: unit must be a string, got 5" },
  { function() metrics.learning(trace, { start = 1e300 }) end, "metrics.learning: start must be an integer >= 1, got 1e+300" },
  { function() metrics.learning(trace, { start = 25 }) end, "metrics.learning: needs at least 8 points from start = 25, got 6" },
  { function() metrics.learning(nil) end, "metrics.learning: the trace must be a list of numbers or a 1-d tensor, got nil" },
  { function() metrics.learning(T.zeros(30, { dtype = "c128" })) end, "metrics.learning: the trace must be real, got dtype c128" },
  { function() metrics.learning({ 1, 2, "x", 4, 5, 6, 7, 8 }) end, "metrics.learning: trace entry 3 is a string, not a number" },
  { function() metrics.report({}) end, "metrics.report: expected the result of metrics.learning, got a table" },
  { function() metrics.ensemble_entropy(T.randn(10), { bins = 0, method = "histogram" }) end, "metrics.ensemble_entropy: bins must be an integer >= 1, got 0" },
  { function() metrics.ensemble_entropy(T.randn(10), { bins = 1e300, method = "histogram" }) end, "metrics.ensemble_entropy: bins must be an integer >= 1, got 1e+300" },
  { function() metrics.ensemble_entropy(T.randn(10), { range = 3, method = "histogram" }) end, "metrics.ensemble_entropy: range must be a table {lo, hi} of two numbers, got 3" },
  { function() metrics.ensemble_entropy(T.randn(10), { methd = "histogram" }) end, "metrics.ensemble_entropy: unknown option \"methd\" (did you mean 'method'?)" },
  { function() metrics.ensemble_entropy(T.randn(10), { bias_correction = 0 }) end, "metrics.ensemble_entropy: bias_correction must be true or false, got 0" },
  { function() metrics.ensemble_entropy(c128) end, "metrics.ensemble_entropy: samples must be real, got dtype c128" },
  { function() metrics.ensemble_entropy(nil) end, "metrics.ensemble_entropy: samples must be a tensor or a list, got nil" },
  { function() metrics.ensemble_entropy(T.randn(10), { method = "knn" }) end, "metrics.ensemble_entropy: method must be \"gaussian\" or \"histogram\", got \"knn\"" },
  { function() metrics.progress { totl = 5 } end, "metrics.progress: unknown option \"totl\" (did you mean 'total'?)" },
  { function() metrics.progress { total = 1e300 } end, "metrics.progress: total must be an integer >= 1, got 1e+300" },
  { function() metrics.progress { interval = -1 } end, "metrics.progress: interval must be a finite number >= 0, got -1" },
  { function() metrics.progress { tty = 1 } end, "metrics.progress: tty must be true or false, got 1" },
  { function() metrics.progress { label = 3 } end, "metrics.progress: label must be a string, got 3" },
  { function() metrics.progress(5) end, "metrics.progress: options must be a table, got 5" },
  { function() progress:update("x") end, "p:update: i must be an integer >= 0, got \"x\"" },
  { function() progress:update(1, {}) end, "p:update: value must be a number, a one-element tensor or a string, got a table" },
  { function() progress:update(-1) end, "p:update: i must be an integer >= 0, got -1" },
})

local graph = require "hebb.graph"

rows("graph", {
  { function() graph.lattice() end, "graph.lattice: expected {dims = {L1, L2, ...}}, got nil" },
  { function() graph.lattice { dims = {} } end, "graph.lattice: dims must be a non-empty list of side lengths, got an empty table" },
  { function() graph.lattice { dims = { 4, 0 } } end, "graph.lattice: dims[2] must be an integer >= 1, got 0" },
  { function() graph.lattice { dims = { 4, 2.5 } } end, "graph.lattice: dims[2] must be an integer >= 1, got 2.5" },
  { function() graph.lattice { dims = { 1 << 31, 1 << 31, 1 << 31 } } end, "graph.lattice: dims {2147483648, 2147483648, 2147483648} make more than 2^56 sites" },
  { function() graph.lattice { dims = { 4 }, neighbours = "nearest" } end, "graph.lattice: unknown option \"neighbours\" (did you mean 'neighbors'?)" },
  { function() graph.lattice { dims = { 4 }, neighbors = "far" } end, "graph.lattice: neighbors must be \"nearest\" or \"next-nearest\", got \"far\"" },
  { function() graph.lattice { dims = { 4 }, periodic = "no" } end, "graph.lattice: periodic must be true or false, got \"no\"" },
  { function() graph.random_regular(0, 3) end, "graph.random_regular: n must be an integer in 1..2147483647, got 0" },
  { function() graph.random_regular(1e18, 3) end, "graph.random_regular: n must be an integer in 1..2147483647, got 1e+18" },
  { function() graph.random_regular(10, -1) end, "graph.random_regular: d must be an integer >= 0, got -1" },
  { function() graph.random_regular(5, 3) end, "graph.random_regular: no simple 3-regular graph on 5 vertices (need d < n and n*d even)" },
  { function() graph.random_regular(10, 2, { sed = 1 }) end, "graph.random_regular: unknown option \"sed\" (did you mean 'seed'?)" },
  { function() graph.random_regular(10, 2, { seed = 0.5 }) end, "graph.random_regular: seed must be an integer, got 0.5" },
  { function() graph.small_world(10, 3, 0.1) end, "graph.small_world: k must be even and < n, got k = 3, n = 10" },
  { function() graph.small_world(10, 2, 1.5) end, "graph.small_world: p must be a probability in [0, 1], got 1.5" },
  { function() graph.small_world(10, 2, nan) end, "graph.small_world: p must be a probability in [0, 1], got nan" },
  { function() graph.small_world(nil, 2, 0.1) end, "graph.small_world: n must be an integer in 1..2147483647, got nil" },
  { function() graph.from_edges(3, { { 1, 4 } }) end, "graph.from_edges: edge 1 has vertex 4 outside 1..3" },
  { function() graph.from_edges(3, 5) end, "graph.from_edges: edges must be a table, got 5" },
  { function() graph.from_edges(3, { 5 }) end, "graph.from_edges: edges[1] must be a table, got 5" },
  { function() graph.from_edges(-1, {}) end, "graph.from_edges: n must be an integer >= 0, got -1" },
  { function() graph.from_edges(3, { { 1, 2 } }, { "w" }) end, "graph.from_edges: weights[1] must be a finite number, got \"w\"" },
  { function() graph.hypergraph(5) end, "graph.hypergraph: expected a list of hyperedges (lists of vertices), got 5" },
  { function() graph.hypergraph({ { 1, 2 } }, { m = 3 }) end, "graph.hypergraph: unknown option \"m\" (did you mean 'n'?)" },
  { function() graph.hypergraph({ { 1, 1 } }) end, "graph.hypergraph: hyperedge 1 lists vertex 1 twice" },
  { function() graph.hypergraph({ 3 }) end, "graph.hypergraph: hyperedge 1 must be a table, got 3" },
  { function() graph.hypergraph({ { 1, 5 } }, { n = 3 }) end, "graph.hypergraph: hyperedge 1 has vertex 5 outside 1..3" },
})

local hio = require "hebb.io"
local selfref = {}
selfref.me = selfref

rows("io_and_tensor_helpers", {
  { function() hio.save(nil, 1) end, "io.save: path must be a string, got nil" },
  { function() hio.save("/nonexistent/x.hio", { f = print }) end, "io.save: cannot save a function (at value.f)" },
  { function() hio.save("/nonexistent/x.hio", { [{}] = 1 }) end, "io.save: cannot save a table key (in value)" },
  { function() hio.save("/nonexistent/x.hio", selfref) end, "io.save: the table at value.me contains itself" },
  { function() hio.save("/nonexistent/x.hio", 1) end, "io.save: cannot write '/nonexistent/x.hio': No such file or directory" },
  { function() hio.load(5) end, "io.load: path must be a string, got 5" },
  { function() hio.load("/nonexistent.hio") end, "io.load: cannot open '/nonexistent.hio': No such file or directory" },
  { function() T.vdot(1, x) end, "T.vdot: a must be a tensor, got 1" },
  { function() T.set_printoptions { precison = 3 } end, "T.set_printoptions: unknown option \"precison\" (did you mean 'precision'?)" },
  { function() T.set_printoptions { precision = -1 } end, "T.set_printoptions: precision must be an integer in 0..17, got -1" },
  { function() T.set_printoptions { precision = nan } end, "T.set_printoptions: precision must be an integer in 0..17, got nan" },
  { function() T.set_printoptions { edgeitems = 0 } end, "T.set_printoptions: edgeitems must be an integer >= 1, got 0" },
  { function() T.set_printoptions { threshold = 1e300 } end, "T.set_printoptions: threshold must be an integer >= 0, got 1e+300" },
  { function() T.set_printoptions(5) end, "T.set_printoptions: expected a table of options, got 5" },
  { function() local s = T.ones(2):sum(); return s.shape end, "attempt to index a number value (field 'shape')" },
})

local nn = require "hebb.nn"
local lin = nn.Linear(2, 2)

rows("nn", {
  { function() nn.Linear(1e300, 2) end, "nn.Linear: in_features must be an integer >= 1, got 1e+300" },
  { function() nn.Linear(2, 2, { bais = false }) end, "nn.Linear: unknown option \"bais\" (did you mean 'bias'?)" },
  { function() nn.Linear(2, 2, { bias = "no" }) end, "nn.Linear: bias must be true or false, got \"no\"" },
  { function() nn.Linear(2, 2, { dtype = "i64" }) end, "nn.Linear: dtype must be \"f64\" or \"f32\", got \"i64\"" },
  { function() nn.Linear(2, 2, { constraint = "skew" }) end, "nn.parametrize: unknown parametrization \"skew\" (known: antisymmetric, masked, orthogonal, positive_definite, symmetric)" },
  { function() nn.Linear(2, 2, { constraint = { "orthogonal", mapp = "exp" } }) end, "nn.parametrize: unknown option \"mapp\" (did you mean 'map'?)" },
  { function() nn.Linear(-1, 2) end, "nn.Linear: in_features must be an integer >= 1, got -1" },
  { function() lin(T.ones(3)) end, "nn.Linear: the input's last dimension must be 2, got shape {3}" },
  { function() lin("x") end, "nn.Linear: expected a tensor input, got \"x\"" },
  { function() nn.Bilinear(2, 2, 0) end, "nn.Bilinear: out_features must be an integer >= 1, got 0" },
  { function() nn.Conv2d(2, 3, 3, { strde = 2 }) end, "nn.Conv2d: unknown option \"strde\" (did you mean 'stride'?)" },
  { function() nn.Conv2d(2, 3, 3, { stride = 0 }) end, "nn.Conv2d: stride must be integers >= 1, got 0" },
  { function() nn.Conv2d(2, 3, { 3 }) end, "nn.Conv2d: kernel_size must be an integer or a table of 2 integers, got a table of 1" },
  { function() nn.conv1d(T.ones(1, 2, 5), 3) end, "nn.conv1d: the weight must be a tensor of shape (out, in, 1 kernel sizes), got 3" },
  { function() nn.conv1d(T.ones(1, 2, 5), T.ones(3, 2, 3), nil, { paddng = "zeros" }) end, "nn.conv1d: unknown option \"paddng\" (did you mean 'padding'?)" },
  { function() nn.LayerNorm(0) end, "nn.LayerNorm: normalized_shape[1] must be an integer >= 1, got 0" },
  { function() nn.LayerNorm(4, { esp = 1e-5 }) end, "nn.LayerNorm: unknown option \"esp\" (did you mean 'eps'?)" },
  { function() nn.LayerNorm({}) end, "nn.LayerNorm: expected the normalized shape (an integer or a table), got an empty table" },
  { function() nn.LayerNorm(4, { eps = -1 }) end, "nn.LayerNorm: eps must be a finite number >= 0, got -1" },
  { function() nn.Dropout(1.5) end, "nn.Dropout: p must be a probability in [0, 1], got 1.5" },
  { function() nn.Dropout(0/0) end, "nn.Dropout: p must be a probability in [0, 1], got nan" },
  { function() nn.RNNCell(2, 3, { nonlinearity = "swish" }) end, "nn.activation: unknown activation \"swish\" (known: gelu, identity, relu, sigmoid, sin, softplus, tanh, or a function or module)" },
  { function() nn.RNNCell(2, 3, { nonlinearty = "tanh" }) end, "nn.RNNCell: unknown option \"nonlinearty\" (did you mean 'nonlinearity'?)" },
  { function() nn.NeuronNetwork(4, { stepz = 2 }) end, "nn.NeuronNetwork: unknown option \"stepz\" (did you mean 'steps'?)" },
  { function() nn.NeuronNetwork(4, { input = { 5 } }) end, "nn.NeuronNetwork: input[1] = 5 is not a neuron number in 1..4" },
  { function() nn.NeuronNetwork(4, { input = {} }) end, "nn.NeuronNetwork: input must be a non-empty list of neuron numbers, got an empty table" },
  { function() nn.NeuronNetwork(4, { steps = 0 }) end, "nn.NeuronNetwork: steps must be an integer >= 1, got 0" },
  { function() nn.NeuronNetwork(4, { init_scale = 0/0 }) end, "nn.NeuronNetwork: init_scale must be a finite number >= 0, got nan" },
  { function() nn.NeuronNetwork(4):step(-1) end, "nn.NeuronNetwork:step: k must be an integer >= 0, got -1" },
  { function() nn.NeuronNetwork(4):step(1, T.ones(2)) end, "nn.NeuronNetwork:step: an input was given but the network has no input neurons (create it with {input = {...}})" },
  { function() nn.Softmax("x") end, "nn.Softmax: dim must be an integer, got \"x\"" },
  { function() nn.Flatten(1.5) end, "nn.Flatten: start must be an integer, got 1.5" },
  { function() nn.mse_loss(T.ones(2), T.ones(2), { reducton = "sum" }) end, "nn.mse_loss: unknown option \"reducton\" (did you mean 'reduction'?)" },
  { function() nn.mse_loss(T.ones(2), T.ones(2), { reduction = "avg" }) end, "nn.mse_loss: reduction must be \"mean\", \"sum\" or \"none\", got \"avg\"" },
  { function() nn.mse_loss(3, T.ones(2)) end, "nn.mse_loss: the prediction must be a tensor, got 3" },
  { function() nn.cross_entropy(T.ones(2, 3), T.ones(2)) end, "nn.cross_entropy: the labels must be an i64 tensor of class numbers, got dtype f64" },
  { function() nn.cross_entropy(T.ones(2, 3), T.tensor({ 1, 4 })) end, "nn.cross_entropy: label 4 at position 2 is outside 1..3" },
  { function() nn.kl_div(T.ones(2), T.ones(2), { log_targt = true }) end, "nn.kl_div: unknown option \"log_targt\" (did you mean 'log_target'?)" },
  { function() nn.huber_loss(T.ones(2), T.ones(2), 0/0) end, "nn.huber_loss: delta must be a finite number > 0, got nan" },
  { function() nn.MSELoss { reductio = "sum" } end, "nn.mse_loss: unknown option \"reductio\" (did you mean 'reduction'?)" },
  { function() nn.HuberLoss(-1) end, "nn.HuberLoss: delta must be a finite number > 0, got -1" },
  { function() nn.Parameter(3) end, "nn.Parameter: t must be a tensor, got 3" },
  { function() nn.Parameter(T.ones(2, { dtype = "i64" })) end, "nn.Parameter: a parameter must be a float tensor, got dtype i64" },
  { function() nn.Parameter(T.ones(2), "yes") end, "nn.Parameter: requires_grad must be true or false, got \"yes\"" },
  { function() lin:to("i64") end, "nn.Linear:to: dtype must be \"f64\", \"f32\", \"c128\" or \"c64\", got \"i64\"" },
  { function() lin:train("yes") end, "nn.Linear:train: mode must be true or false, got \"yes\"" },
  { function() lin:zero_grad(1) end, "nn.Linear:zero_grad: set_to_none must be true or false, got 1" },
  { function() lin:apply(3) end, "nn.Linear:apply: fn must be a function, got 3" },
  { function() lin:parameters({ recursive = false }) end, "nn.Linear:named_parameters: unknown option \"recursive\" (did you mean 'recurse'?)" },
  { function() lin:load_state_dict(3) end, "nn.Linear:load_state_dict: expected a table name -> tensor, got 3" },
  { function() lin:load_state_dict({}, { strct = false }) end, "nn.Linear:load_state_dict: unknown option \"strct\" (did you mean 'strict'?)" },
  { function() lin:load_state_dict({}) end, "nn.Linear:load_state_dict: missing keys: weight, bias" },
  { function() lin:register_parameter(1.5, T.ones(2)) end, "nn.Linear:register_parameter: the name must be a string or an integer, got 1.5" },
  { function() lin:register_buffer("b", 3) end, "nn.Linear:register_buffer: \"b\" must be a tensor or nil, got 3" },
  { function() lin:add_module("c", 3) end, "nn.Linear:add_module: \"c\" must be a module, got 3" },
  { function() nn.Sequential(nn.Tanh(), 3) end, "nn.Sequential: argument 2 must be a module, got 3" },
  { function() nn.Sequential():add(3) end, "nn.Sequential:add: expected a module, got 3" },
  { function() nn.ModuleList(3) end, "nn.ModuleList: the list of modules must be a table, got 3" },
  { function() nn.ModuleList({ 3 }) end, "nn.ModuleList: element 1 must be a module, got 3" },
  { function() nn.ModuleDict(3) end, "nn.ModuleDict: the table of modules must be a table, got 3" },
  { function() nn.Residual(3) end, "nn.Residual: expected a module, got 3" },
  { function() nn.Module:extend("bad name") end, "nn.Module:extend: the class name must be an identifier, got \"bad name\"" },
  { function() nn.parametrize(lin, "weight", "symmetric", { x = 1 }) end, "nn.parametrize: unknown option \"x\"" },
  { function() nn.parametrize(lin, "weight", "positive_definite", { eps = -1 }) end, "nn.parametrize: positive_definite eps must be a finite number >= 0, got -1" },
  { function() nn.parametrize(lin, 3, "symmetric") end, "nn.parametrize: the tensor's name must be a string, got 3" },
  { function() nn.parametrize(lin, "weight", 3) end, "nn.parametrize: expected a parametrization name, function or module, got 3" },
  { function() nn.parametrize(nn.Linear(2, 3), "weight", "symmetric") end, "nn.parametrize: symmetric needs a square matrix, got shape {3,2}" },
  { function() nn.remove_parametrizations(lin, "weight", { leave = true }) end, "nn.remove_parametrizations: Linear has no parametrized tensor \"weight\"" },
  { function() nn.register_parametrization("x", 3) end, "nn.register_parametrization: make must be a function, got 3" },
  { function() nn.tie(lin, "weight", 3, "weight") end, "nn.tie: expected (module, name, module, name), got a table and 3 as modules" },
  { function() nn.tie(lin, "gain", nn.Linear(2, 2), "weight") end, "nn.tie: Linear has no parameter \"gain\"" },
  { function() nn.activation(3) end, "nn.activation: unknown activation 3 (known: gelu, identity, relu, sigmoid, sin, softplus, tanh, or a function or module)" },
})

-- comparisons: < and <= name the remedy; == cannot be caught (Lua never
-- calls __eq between a tensor and a number), so :item() works on both
local cmp = "attempt to compare a tensor with <, <=, > or >=: for the value of a one-element tensor use t:item() (a Lua number also has :item()); elementwise use t:lt(x), t:le(x), t:gt(x), t:ge(x)"
rows("comparisons", {
  { function() return xt:sum() < 1 end, cmp },
  { function() return 1 <= xt:sum() end, cmp },
  { function() return T.ones(2) > T.zeros(2) end, cmp },
})

check.test("item_of_numbers_and_0d_tensors", function()
  local w = T.zeros(3):requires_grad_()
  check.eq(w:abs():max() == 0, false, "a 0-d tensor is never == a number")
  check.eq(w:abs():max():item() == 0, true, "tracked")
  check.eq(T.zeros(3):abs():max():item() == 0, true, "plain: a number's item")
  check.eq((2.5):item(), 2.5, "a number's item is itself")
  check.eq(math.type((7):item()), "integer", "and keeps its subtype")
end)

-- The sweep: every public Lua function of the modules and every method of
-- an instance of each class, called with junk arguments, either works or
-- raises an error at the caller's line that is hebb's own message (not a raw
-- "attempt to index" or "bad argument" from inside the library).  C
-- functions re-exported by a module (nn.tanh is T.tanh) have their own suite.
local junk = { { nil }, { "junk" }, { -1 }, { nan }, { 1e300 }, { {} }, { 3, "junk" },
               { T.ones(2), -5 }, { T.ones(2), { bogus = 1 } } }

local function show_args(args)
  return (tostring(args[1]):gsub("\n.*", "")) .. ", " .. (tostring(args[2]):gsub("\n.*", ""))
end

-- the calls of call(args) that fail otherwise than they should
local function sweep(name, call, bad)
  for _, args in ipairs(junk) do
    local ok, err = pcall(call, args)
    err = tostring(err)
    if not ok and (err:sub(1, #FILE + 1) ~= FILE .. ":" or err:find("attempt to")
                   or err:find("bad argument")) then
      bad[#bad + 1] = name .. "(" .. show_args(args) .. "): " .. err:gsub("\n.*", "")
    end
  end
end

local modules = { autograd = A, optim = optim, nn = nn, data = data, metrics = metrics,
                  graph = graph, io = hio, T = T }
local skip = { ["io.save"] = true }   -- io.save("junk", nil) writes a file

check.test("sweep_module_functions", function()
  local bad, names = {}, {}
  for mname, mod in pairs(modules) do
    for k, f in pairs(mod) do
      local name = mname .. "." .. k
      if type(f) == "function" and k:sub(1, 1) ~= "_" and not skip[name]
          and debug.getinfo(f, "S").what == "Lua" then
        names[#names + 1] = name
        sweep(name, function(args) return f(table.unpack(args, 1, 2)) end, bad)
      end
    end
  end
  check.truthy(#names > 70, "functions swept: " .. #names)
  table.sort(bad)
  check.eq(table.concat(bad, "\n"), "", "calls that fail badly")
end)

local instances = {
  SGD = function() return optim.SGD({ T.ones(2) }, { lr = 0.1 }) end,
  Adam = function() return optim.Adam({ T.ones(2) }) end,
  CovariantGD = function() return optim.CovariantGD({ T.ones(2) }, { metric = "full" }) end,
  Langevin = function() return optim.Langevin({ T.ones(2) }, { lr = 0.1, seed = 1 }) end,
  Hamiltonian = function() return optim.Hamiltonian({ T.ones(2) }, { lr = 0.1 }) end,
  LBFGS = function() return optim.LBFGS({ T.ones(2) }) end,
  StepLR = function() return optim.StepLR(optim.Adam({ T.ones(2) }), { step_size = 2 }) end,
  Linear = function() return nn.Linear(2, 2) end,
  Bilinear = function() return nn.Bilinear(2, 2, 2) end,
  Conv1d = function() return nn.Conv1d(1, 1, 3) end,
  LayerNorm = function() return nn.LayerNorm(2) end,
  Dropout = function() return nn.Dropout(0.5) end,
  RNNCell = function() return nn.RNNCell(2, 2) end,
  NeuronNetwork = function() return nn.NeuronNetwork(3, { input = { 1 }, output = { 3 } }) end,
  Sequential = function() return nn.Sequential(nn.Linear(2, 2), nn.Tanh()) end,
  ModuleList = function() return nn.ModuleList({ nn.Tanh() }) end,
  ModuleDict = function() return nn.ModuleDict({ a = nn.Tanh() }) end,
  Residual = function() return nn.Residual(nn.Linear(2, 2)) end,
  Softmax = function() return nn.Softmax() end,
  Flatten = function() return nn.Flatten() end,
  MSELoss = function() return nn.MSELoss() end,
  HuberLoss = function() return nn.HuberLoss() end,
  Orthogonal = function() return nn.Linear(2, 2, { constraint = "orthogonal" }) end,
  Dataset = function() return data.Dataset(T.zeros(4, 2)) end,
  DataLoader = function() return data.DataLoader({ T.zeros(4, 2) }) end,
  Graph = function() return graph.lattice { dims = { 4 } } end,
  Hypergraph = function() return graph.hypergraph { { 1, 2, 3 } } end,
  Progress = function() return metrics.progress { tty = false } end,
  Learning = function() return metrics.learning(trace) end,
}

-- the public methods of o: its class and the classes above it
local function methods_of(o)
  local out, seen = {}, {}
  local c = getmetatable(o)
  while type(c) == "table" do
    for k, v in pairs(c) do
      if type(k) == "string" and type(v) == "function" and k:sub(1, 1) ~= "_" and not seen[k] then
        seen[k] = true
        out[#out + 1] = k
      end
    end
    local up = rawget(c, "super") or getmetatable(c)
    if up and rawget(c, "super") == nil then up = type(up.__index) == "table" and up.__index end
    c = up ~= c and up or nil
  end
  return out
end

check.test("sweep_methods", function()
  local bad, count = {}, 0
  for cname, make in pairs(instances) do
    for _, m in ipairs(methods_of(make())) do
      count = count + 1
      sweep(cname .. ":" .. m, function(args)
        local o = make()
        return o[m](o, table.unpack(args, 1, 2))
      end, bad)
    end
  end
  check.truthy(count > 300, "methods swept: " .. count)
  table.sort(bad)
  check.eq(table.concat(bad, "\n"), "", "calls that fail badly")
end)

check.done()
