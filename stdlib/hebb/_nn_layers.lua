-- hebb._nn_layers: the layers of hebb.nn -- Linear, Bilinear, activations,
-- LayerNorm, Dropout, RNNCell and the recurrent neuron network
-- x <- f(W x + b) of Vanchurin's model.
--
-- Every forward is written with tensor operations, so autograd records it
-- without any rule of its own.
local E = require "hebb._error"
local T = require "hebb.tensor"
local B = require "hebb._nn_module"
local Par = require "hebb._nn_parametrize"
local doc = require("hebb").doc

local L = {}
local fmt = string.format
local Module = B.Module
local shape_str = B._shape_str

local function check_count(v, what)
  local i = math.tointeger(v)
  if not (i and i >= 1) then
    E.raise("%s must be an integer >= 1, got %s", what, E.show(v))
  end
  return i
end

local function check_dtype(d, what)
  d = d or "f64"
  if d ~= "f64" and d ~= "f32" then
    E.raise("%s: dtype must be \"f64\" or \"f32\", got %s", what, E.show(d))
  end
  return d
end

-- the options table of a layer's constructor
local function layer_opts(who, opts, keys)
  opts = E.checkopts(who, opts, keys)
  E.check(who, "bias", opts.bias, "boolean", true)
  return opts
end

-- the arguments of a constructor (n1, n2 [, opts]): the options, the two
-- sizes (named what1, what2 in errors) and the dtype
local function layer_args(who, keys, n1, what1, n2, what2, opts)
  opts = layer_opts(who, opts, keys)
  n1 = check_count(n1, who .. ": " .. what1)
  n2 = check_count(n2, who .. ": " .. what2)
  return opts, n1, n2, check_dtype(opts.dtype, who)
end
L._check_dtype = check_dtype
L._check_count = check_count

-- a parameter of the given shape, uniform in [-bound, bound) (torch's
-- default initialisation of linear and recurrent layers), drawn from hebb's
-- default generator (T.manual_seed makes it repeat)
local function uniform(shape, bound, dtype)
  return B.Parameter(T.empty(shape, { dtype = dtype }):uniform_(-bound, bound))
end
L._uniform = uniform

-- the bias vector of a layer (n elements, initialised like its weight), or
-- none with {bias = false}: the name is then registered with no tensor
local function add_bias(self, name, opts, n, bound, dtype)
  if opts.bias == false then
    self:register_parameter(name, nil)
  else
    self[name] = uniform({ n }, bound, dtype)
  end
end
L._add_bias = add_bias

-- the last dimension of x must be n
local function check_features(x, n, what)
  if not T.is_tensor(x) then
    E.raise("%s: expected a tensor input, got %s", what, E.show(x))
  end
  local nd = x.ndim
  if nd == 0 or x:size(nd) ~= n then
    E.raise("%s: the input's last dimension must be %d, got shape %s",
              what, n, shape_str(x))
  end
end

-- constraint = "name" or {"name", opt = ...}: the parametrization of weight
local function constrain(self, spec, what)
  if spec == nil then return nil end
  local name, opts = spec, nil
  if type(spec) == "table" then      -- {name, key = value...}: the keys are its options
    name, opts = spec[1], {}
    for k, v in pairs(spec) do if k ~= 1 then opts[k] = v end end
  end
  if type(name) ~= "string" then
    E.raise("%s: constraint must be a name or {name, options...}, got %s", what, E.show(spec))
  end
  Par.parametrize(self, "weight", name, opts)
  return name
end

-- --- Linear ---------------------------------------------------------------------

local Linear = Module:extend("Linear")
L.Linear = Linear

local linear_keys = { dtype = true, bias = true, constraint = true }

function Linear:__init(n_in, n_out, opts)
  local dtype
  opts, n_in, n_out, dtype = layer_args("nn.Linear", linear_keys, n_in, "in_features",
                                        n_out, "out_features", opts)
  self.in_features, self.out_features = n_in, n_out
  local bound = 1 / math.sqrt(n_in)
  self.weight = uniform({ n_out, n_in }, bound, dtype)
  add_bias(self, "bias", opts, n_out, bound, dtype)
  self.constraint = constrain(self, opts.constraint, "nn.Linear")
end
doc(Linear, "nn.Linear(in, out [, {bias=true, dtype=\"f64\", constraint=name}])"
  .. "\n\ny = x W^T + b for x of shape (..., in): weight (out, in), bias (out), "
  .. "both uniform in [-1/sqrt(in), 1/sqrt(in)) from hebb's generator "
  .. "(T.manual_seed).  constraint: a parametrization of the weight, "
  .. "\"antisymmetric\", \"symmetric\", \"orthogonal\", \"positive_definite\" or "
  .. "{\"masked\", mask = M} (see nn.parametrize).")

function Linear:forward(x)
  check_features(x, self.in_features, "nn.Linear")
  return T.linear(x, self.weight, self.bias)
end

function Linear:extra_repr()
  return fmt("in_features=%d, out_features=%d, bias=%s%s", self.in_features,
             self.out_features, tostring(self.bias ~= nil),
             self.constraint and (", constraint=" .. self.constraint) or "")
end

-- --- Bilinear ---------------------------------------------------------------------

local Bilinear = Module:extend("Bilinear")
L.Bilinear = Bilinear

function Bilinear:__init(n1, n2, n_out, opts)
  opts = layer_opts("nn.Bilinear", opts, { dtype = true, bias = true })
  n1 = check_count(n1, "nn.Bilinear: in1_features")
  n2 = check_count(n2, "nn.Bilinear: in2_features")
  n_out = check_count(n_out, "nn.Bilinear: out_features")
  local dtype = check_dtype(opts.dtype, "nn.Bilinear")
  self.in1_features, self.in2_features, self.out_features = n1, n2, n_out
  local bound = 1 / math.sqrt(n1)
  self.weight = uniform({ n_out, n1, n2 }, bound, dtype)
  add_bias(self, "bias", opts, n_out, bound, dtype)
end
doc(Bilinear, "nn.Bilinear(in1, in2, out [, {bias=true, dtype=}])\n\n"
  .. "y[k] = x1^T W[k] x2 + b[k] for inputs (..., in1) and (..., in2): weight "
  .. "(out, in1, in2), bias (out), uniform in +-1/sqrt(in1).  Call as m(x1, x2).")

-- y[k] = x1^T W[k] x2 + b[k]: one product x1 (.., n1) by W seen as
-- (n1, out*n2), then the n2 sum against x2
function Bilinear:forward(x1, x2)
  local n1, n2, k = self.in1_features, self.in2_features, self.out_features
  check_features(x1, n1, "nn.Bilinear (first input)")
  check_features(x2, n2, "nn.Bilinear (second input)")
  if x1.ndim ~= x2.ndim or (x1.ndim == 2 and x1.shape[1] ~= x2.shape[1]) then
    E.raise("nn.Bilinear: the inputs' batch shapes differ: %s and %s",
              shape_str(x1), shape_str(x2))
  end
  local W = self.weight:permute(2, 1, 3):reshape(n1, k * n2)
  local shape = {}
  for d = 1, x1.ndim - 1 do shape[d] = x1.shape[d] end
  shape[#shape + 1], shape[#shape + 2] = k, n2
  local y = (x1:matmul(W):reshape(shape) * x2:unsqueeze(-2)):sum(-1)
  local b = self.bias
  if b then y = y + b end
  return y
end

function Bilinear:extra_repr()
  return fmt("in1_features=%d, in2_features=%d, out_features=%d, bias=%s",
             self.in1_features, self.in2_features, self.out_features,
             tostring(self.bias ~= nil))
end

-- --- activations -------------------------------------------------------------------

local SQRT_2_OVER_PI = math.sqrt(2 / math.pi)

-- the tanh form 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (no erf op)
function L.gelu(x)
  E.check("nn.gelu", "x", x, "tensor")
  return 0.5 * x * (1 + T.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))
end
doc(L.gelu, "nn.gelu(x)\n\nGELU in its tanh form, 0.5 x (1 + tanh(sqrt(2/pi) "
  .. "(x + 0.044715 x^3))) (within 1e-3 of x Phi(x)).")

function L.identity(x) return x end
doc(L.identity, "nn.identity(x)\n\nx itself.")
L.tanh, L.relu, L.sigmoid, L.softplus, L.sin = T.tanh, T.relu, T.sigmoid, T.softplus, T.sin

-- dim of a softmax over x: an integer naming one of x's dimensions
local function softmax_dim(who, x, dim)
  E.check(who, "x", x, "tensor")
  dim = E.int(who, "dim", dim or -1)
  if dim == 0 or dim > x.ndim or dim < -x.ndim then
    E.raise("%s: dim must be in 1..%d or -%d..-1 for a %d-d input, got %d", who, x.ndim,
            x.ndim, x.ndim, dim)
  end
  return dim
end

-- shifted by the (constant) row maximum first, so exp never overflows and
-- x - m loses no bits to a large common offset
local function shifted(x, dim)
  local m = B._detach(x):max(dim, { keepdim = true })
  return x - m
end

function L.log_softmax(x, dim)
  dim = softmax_dim("nn.log_softmax", x, dim)
  local z = shifted(x, dim)
  return z - z:exp():sum(dim, { keepdim = true }):log()
end
doc(L.log_softmax, "nn.log_softmax(x [, dim=-1])\n\nx - logsumexp(x, dim): "
  .. "log-probabilities, stable for any x.")

function L.softmax(x, dim)
  dim = softmax_dim("nn.softmax", x, dim)
  local e = shifted(x, dim):exp()
  return e / e:sum(dim, { keepdim = true })
end
doc(L.softmax, "nn.softmax(x [, dim=-1])\n\nexp(log_softmax(x, dim)): "
  .. "probabilities summing to 1 along dim, without overflow.")

local activations = {
  tanh = L.tanh, relu = L.relu, sigmoid = L.sigmoid, softplus = L.softplus,
  gelu = L.gelu, sin = L.sin, identity = L.identity,
}

function L.activation(spec)
  if type(spec) == "function" or B.is_module(spec) then return spec end
  local f = activations[spec]
  if f then return f end
  local names = {}
  for k in pairs(activations) do names[#names + 1] = k end
  table.sort(names)
  E.raise("nn.activation: unknown activation %s (known: %s, or a function or module)",
            E.show(spec), table.concat(names, ", "))
end
doc(L.activation, "nn.activation(spec)\n\nThe activation function named spec "
  .. "(\"tanh\", \"relu\", \"sigmoid\", \"softplus\", \"gelu\", \"sin\", "
  .. "\"identity\"); a function or module is returned as it is.")

local act_classes = {
  { "Tanh", "tanh", "tanh(x)" }, { "ReLU", "relu", "max(x, 0)" },
  { "Sigmoid", "sigmoid", "1 / (1 + exp(-x))" },
  { "Softplus", "softplus", "log(1 + exp(x)), without overflow" },
  { "GELU", "gelu", "0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), the tanh form" },
  { "Sin", "sin", "sin(x) (periodic activations, SIREN-style)" },
  { "Identity", "identity", "x itself" },
}
for _, a in ipairs(act_classes) do
  local cls = Module:extend(a[1])
  local f = activations[a[2]]
  cls.forward = function(_, x) return f(x) end
  L[a[1]] = cls
  doc(cls, "nn." .. a[1] .. "()\n\nThe activation " .. a[3] .. " as a module "
    .. "(function form: nn." .. a[2] .. ").")
end

-- nn.Sequential's Linear + ReLU (hebb._nn_containers): one T._linear_relu
-- when m is an nn.Linear and nxt an nn.ReLU with the forwards above (not
-- overridden, no parametrized weight) and x is f64/f32 as the weight is
do
  local linear_forward, relu_forward = Linear.forward, L.ReLU.forward
  local ReLU, linear_relu = L.ReLU, T._linear_relu
  local real = { f64 = true, f32 = true }
  require("hebb._nn_containers")._set_fuse(function(m, nxt, x)
    if getmetatable(m) ~= Linear or getmetatable(nxt) ~= ReLU
        or Linear.forward ~= linear_forward or ReLU.forward ~= relu_forward
        or rawget(m, "forward") ~= nil or rawget(nxt, "forward") ~= nil
        or rawget(m, "parametrizations") ~= nil or not T.is_tensor(x) then
      return nil
    end
    local w = m.weight
    if not (T.is_tensor(w) and real[w.dtype] and x.dtype == w.dtype) then return nil end
    check_features(x, m.in_features, "nn.Linear")
    return linear_relu(x, w, m.bias)
  end)
end

local Softmax = Module:extend("Softmax")
L.Softmax = Softmax
function Softmax:__init(dim) self.dim = E.int("nn.Softmax", "dim", dim or -1) end
doc(Softmax, "nn.Softmax([dim=-1])\n\nnn.softmax as a module.")
function Softmax:forward(x) return L.softmax(x, self.dim) end
function Softmax:extra_repr() return "dim=" .. self.dim end

local LogSoftmax = Module:extend("LogSoftmax")
L.LogSoftmax = LogSoftmax
function LogSoftmax:__init(dim) self.dim = E.int("nn.LogSoftmax", "dim", dim or -1) end
doc(LogSoftmax, "nn.LogSoftmax([dim=-1])\n\nnn.log_softmax as a module.")
function LogSoftmax:forward(x) return L.log_softmax(x, self.dim) end
LogSoftmax.extra_repr = Softmax.extra_repr

local Flatten = Module:extend("Flatten")
L.Flatten = Flatten
function Flatten:__init(first, last)
  self.first = E.int("nn.Flatten", "start", first or 2)
  self.last = E.int("nn.Flatten", "end", last or -1)
end
doc(Flatten, "nn.Flatten([start=2 [, end=-1]])\n\nx:flatten(start, end): "
  .. "merges the dimensions after the batch one by default.")
function Flatten:forward(x)
  E.check("nn.Flatten", "the input", x, "tensor")
  local nd = math.max(x.ndim, 1)
  for _, d in ipairs({ self.first, self.last }) do
    if d == 0 or d > nd or d < -nd then
      E.raise("nn.Flatten: dimension %d out of range for a %d-d input (shape %s)", d,
              x.ndim, shape_str(x))
    end
  end
  return x:flatten(self.first, self.last)
end
function Flatten:extra_repr() return fmt("start=%d, end=%d", self.first, self.last) end

-- --- LayerNorm -----------------------------------------------------------------------

local LayerNorm = Module:extend("LayerNorm")
L.LayerNorm = LayerNorm

function LayerNorm:__init(shape, opts)
  local who = "nn.LayerNorm"
  opts = E.checkopts(who, opts, { dtype = true, eps = true, affine = true })
  if math.type(shape) == "integer" then shape = { shape } end
  if type(shape) ~= "table" or #shape == 0 then
    E.raise("%s: expected the normalized shape (an integer or a table), got %s", who,
            type(shape) == "table" and "an empty table" or E.show(shape))
  end
  for k, s in ipairs(shape) do check_count(s, "nn.LayerNorm: normalized_shape[" .. k .. "]") end
  local dtype = check_dtype(opts.dtype, who)
  E.check(who, "affine", opts.affine, "boolean", true)
  self.normalized_shape = shape
  self.eps = E.num(who, "eps", opts.eps or 1e-5, 0)
  self.dims = {}
  for k = 1, #shape do self.dims[k] = k - #shape - 1 end
  if opts.affine ~= false then
    self.weight = B.Parameter(T.ones(shape, { dtype = dtype }))
    self.bias = B.Parameter(T.zeros(shape, { dtype = dtype }))
  end
end
doc(LayerNorm, "nn.LayerNorm(shape [, {eps=1e-5, affine=true, dtype=}])\n\n"
  .. "Normalizes over the trailing dimensions given by shape (an integer or a "
  .. "table): (x - mean) / sqrt(var + eps) with the population variance, then "
  .. "* weight + bias (ones and zeros of that shape) when affine.")

function LayerNorm:forward(x)
  E.check("nn.LayerNorm", "the input", x, "tensor")
  local shape, nd = self.normalized_shape, x.ndim
  local ok = nd >= #shape
  for k = 1, #shape do
    ok = ok and x.shape[nd - #shape + k] == shape[k]
  end
  if not ok then
    E.raise("nn.LayerNorm: the input's trailing dimensions must be {%s}, got shape %s",
              table.concat(shape, ","), shape_str(x))
  end
  local keep = { keepdim = true }
  local xc = x - x:mean(self.dims, keep)
  local y = xc / ((xc * xc):mean(self.dims, keep) + self.eps):sqrt()
  local w = self.weight
  if w then y = y * w + self.bias end
  return y
end

function LayerNorm:extra_repr()
  return fmt("{%s}, eps=%g, affine=%s", table.concat(self.normalized_shape, ","),
             self.eps, tostring(self.weight ~= nil))
end

-- --- Dropout -----------------------------------------------------------------------------

local Dropout = Module:extend("Dropout")
L.Dropout = Dropout

function Dropout:__init(p)
  p = p or 0.5
  if type(p) ~= "number" or not (p >= 0 and p <= 1) then
    E.raise("nn.Dropout: p must be a probability in [0, 1], got %s", E.show(p))
  end
  self.p = p
end
doc(Dropout, "nn.Dropout([p=0.5])\n\nIn training mode each element is zeroed "
  .. "with probability p and the others scaled by 1/(1-p) (a bernoulli mask "
  .. "from hebb's generator); in evaluation mode (m:eval()) the identity.")

-- each element kept with probability 1 - p and scaled by 1/(1 - p), so the
-- expected output is x; the identity in evaluation mode
function Dropout:forward(x)
  E.check("nn.Dropout", "the input", x, "tensor")
  local p = self.p
  if not self.training or p == 0 then return x end
  if p == 1 then return x * 0 end
  local mask = T.bernoulli(1 - p, x.shape, { dtype = x.dtype })
  return x * mask:mul_(1 / (1 - p))
end

function Dropout:extra_repr() return fmt("p=%g", self.p) end

-- --- RNNCell --------------------------------------------------------------------------------

local RNNCell = Module:extend("RNNCell")
L.RNNCell = RNNCell

local rnn_keys = { dtype = true, bias = true, nonlinearity = true }

function RNNCell:__init(n_in, n_hidden, opts)
  local dtype
  opts, n_in, n_hidden, dtype = layer_args("nn.RNNCell", rnn_keys, n_in, "input_size",
                                           n_hidden, "hidden_size", opts)
  self.input_size, self.hidden_size = n_in, n_hidden
  self.nonlinearity = opts.nonlinearity or "tanh"
  self.act = L.activation(self.nonlinearity)
  local bound = 1 / math.sqrt(n_hidden)
  self.weight_ih = uniform({ n_hidden, n_in }, bound, dtype)
  self.weight_hh = uniform({ n_hidden, n_hidden }, bound, dtype)
  add_bias(self, "bias_ih", opts, n_hidden, bound, dtype)
  add_bias(self, "bias_hh", opts, n_hidden, bound, dtype)
end
doc(RNNCell, "nn.RNNCell(input_size, hidden_size [, {bias=true, "
  .. "nonlinearity=\"tanh\", dtype=}])\n\nOne step of the Elman network: "
  .. "h' = f(x W_ih^T + b_ih + h W_hh^T + b_hh); m(x [, h]) with h = 0 when "
  .. "omitted.  Weights uniform in +-1/sqrt(hidden_size).")

-- h' = f(W_ih x + b_ih + W_hh h + b_hh); h defaults to zeros
function RNNCell:forward(x, h)
  check_features(x, self.input_size, "nn.RNNCell")
  local z = x:matmul(self.weight_ih:t())
  if self.bias_ih then z = z + self.bias_ih end
  if h ~= nil then
    check_features(h, self.hidden_size, "nn.RNNCell (hidden state)")
    z = z + h:matmul(self.weight_hh:t())
  end
  if self.bias_hh then z = z + self.bias_hh end
  return self.act(z)
end

function RNNCell:extra_repr()
  return fmt("%d, %d, nonlinearity=%s, bias=%s", self.input_size, self.hidden_size,
             tostring(self.nonlinearity), tostring(self.bias_ih ~= nil))
end

-- --- the neuron network ------------------------------------------------------------------------

local NeuronNetwork = Module:extend("NeuronNetwork")
L.NeuronNetwork = NeuronNetwork

-- a list of neuron numbers (table or i64 tensor) checked against 1..n
local function neuron_list(v, n, what)
  if T.is_tensor(v) then v = v:totable() end
  if type(v) ~= "table" or #v == 0 then
    E.raise("nn.NeuronNetwork: %s must be a non-empty list of neuron numbers, got %s",
              what, type(v) == "table" and "an empty table" or E.show(v))
  end
  local seen = {}
  for k, i in ipairs(v) do
    if math.type(i) ~= "integer" or i < 1 or i > n then
      E.raise("nn.NeuronNetwork: %s[%d] = %s is not a neuron number in 1..%d",
                what, k, E.show(i), n)
    end
    if seen[i] then
      E.raise("nn.NeuronNetwork: %s lists neuron %d twice", what, i)
    end
    seen[i] = true
  end
  return v
end

local network_keys = { dtype = true, bias = true, activation = true, steps = true,
                       init_scale = true, input = true, output = true, constraint = true }

function NeuronNetwork:__init(n, opts)
  local who = "nn.NeuronNetwork"
  opts = layer_opts(who, opts, network_keys)
  n = check_count(n, "nn.NeuronNetwork: n")
  local dtype = check_dtype(opts.dtype, who)
  self.n = n
  self.activation = opts.activation or "tanh"
  self.act = L.activation(self.activation)
  self.steps = check_count(opts.steps or 1, "nn.NeuronNetwork: steps")
  local bound = E.num(who, "init_scale", opts.init_scale or 1 / math.sqrt(n), 0)
  self.weight = uniform({ n, n }, bound, dtype)
  add_bias(self, "bias", opts, n, bound, dtype)
  self:register_buffer("state", T.zeros({ n }, { dtype = dtype }))
  if opts.input then
    local inp = neuron_list(opts.input, n, "input")
    self.input = inp
    -- x <- x * keep + u P: the input neurons take the input's values
    local P = T.zeros({ #inp, n }, { dtype = dtype })
    local keep = T.ones({ n }, { dtype = dtype })
    for k, i in ipairs(inp) do P:set(k, i, 1); keep:set(i, 0) end
    self:register_buffer("input_placement", P, false)
    self:register_buffer("input_keep", keep, false)
  end
  if opts.output then
    self.output = neuron_list(opts.output, n, "output")
    self:register_buffer("output_index", T.tensor(self.output, "i64"), false)
  end
  self.constraint = constrain(self, opts.constraint, "nn.NeuronNetwork")
end
doc(NeuronNetwork, "nn.NeuronNetwork(n [, {activation=\"tanh\", bias=true, "
  .. "input=list, output=list, steps=1, constraint=name, init_scale=, dtype=}])"
  .. "\n\nVanchurin's neuron network: n neurons whose states x (a buffer, "
  .. "m.state, not trained) evolve by x <- f(W x + b) with trainable W (n, n) "
  .. "and b (n).  m:step([k=1] [, u]) makes k updates (input neurons set to u "
  .. "before each), m(u [, k]) runs `steps` updates and returns the output "
  .. "neurons' states, m:reset_state([x]) restarts.  The state carries over "
  .. "between calls (stored detached: gradients flow within one call).  A "
  .. "batch of inputs (B, #input) runs B copies of the state.  constraint "
  .. "parametrizes W (e.g. \"antisymmetric\").")

-- the state as a (batch of) vector(s); with a batch of inputs a single state
-- is repeated for every row
local function start_state(self, u)
  local x = self.state
  if u ~= nil and u.ndim == 2 and x.ndim == 1 then
    x = x:unsqueeze(1):expand(u.shape[1], self.n)
  end
  return x
end

-- k updates x <- f(x W^T + b), input neurons set to u before each one; the
-- graph through the steps is kept in the result, the buffer holds it detached
function NeuronNetwork:step(k, u)
  k = E.int("nn.NeuronNetwork:step", "k", k or 1, 0)
  if u ~= nil then
    if not self.input then
      E.raise("nn.NeuronNetwork:step: an input was given but the network has no input neurons "
            .. "(create it with {input = {...}})")
    end
    check_features(u, #self.input, "nn.NeuronNetwork:step (input)")
    if u.ndim > 2 then
      E.raise("nn.NeuronNetwork:step: the input must be 1-d or (batch, inputs), got shape "
            .. shape_str(u))
    end
  end
  local W, b, act = self.weight, self.bias, self.act
  local Wt = W:t()
  local x = start_state(self, u)
  if u ~= nil and u.ndim == 2 and x.shape[1] ~= u.shape[1] then
    E.raise("nn.NeuronNetwork:step: the state holds a batch of %d, the input %d "
                        .. "(call reset_state() to start a new batch)", x.shape[1], u.shape[1])
  end
  local uP = u ~= nil and u:matmul(self.input_placement) or nil
  local keep = self.input_keep
  for _ = 1, k do
    if uP then x = x * keep + uP end
    local z = x:matmul(Wt)
    if b then z = z + b end
    x = act(z)
  end
  rawset(self, "state", B._detach(x))
  return x
end
doc(NeuronNetwork.step, "net:step([k=1] [, u])\n\nk updates x <- f(x W^T + b) of "
  .. "the state (input neurons set to u before each); returns the new state, "
  .. "which keeps the graph through the k updates; net.state holds it detached.")

-- runs `steps` updates (opts.steps at creation, or k) from the current state
-- with the input clamped, and returns the output neurons' states
function NeuronNetwork:forward(u, k)
  local x = self:step(k or self.steps, u)
  if self.output then x = x:index_select(x.ndim, self.output_index) end
  return x
end

function NeuronNetwork:reset_state(x)
  local s
  if x == nil then
    s = T.zeros({ self.n }, { dtype = self.weight.dtype })
  else
    check_features(x, self.n, "nn.NeuronNetwork:reset_state")
    s = B._detach(x):astype(self.weight.dtype):clone()
  end
  rawset(self, "state", s)
  return self
end
doc(NeuronNetwork.reset_state, "net:reset_state([x])\n\nThe state becomes zeros "
  .. "(n), or a copy of x ((n) or a batch (B, n)); returns net.")

function NeuronNetwork:extra_repr()
  local act = type(self.activation) == "string" and self.activation or "custom"
  local s = fmt("n=%d, activation=%s, steps=%d", self.n, act, self.steps)
  if self.input then s = s .. ", inputs=" .. #self.input end
  if self.output then s = s .. ", outputs=" .. #self.output end
  if self.constraint then s = s .. ", constraint=" .. self.constraint end
  return s
end

return L
