-- hebb._optim_schedules: learning-rate schedules for hebb.optim --
-- StepLR, ExponentialLR, CosineAnnealingLR, each with a linear warmup.
local E = require "hebb._error"
local B = require "hebb._optim_base"
local doc = require("hebb").doc

local M = {}
local read_options = B._read_options
local fmtv = E.show
local cos, pi = math.cos, math.pi

-- --- learning-rate schedules -------------------------------------------

local Schedule = {}
Schedule.__index = Schedule

-- a new schedule of opt's learning rate; fn(self, e) is the rate at epoch e
-- (counted after the warmup)
local function schedule(name, opt, opts, spec, fn)
  local who = "optim." .. name
  if type(opt) ~= "table" or type(opt.lr) ~= "number" then
    E.raise("%s: the first argument must be an optimizer (a table with a number lr), got %s",
            who, fmtv(opt))
  end
  local self = setmetatable({ optimizer = opt, base_lr = opt.lr, last_epoch = 0, _fn = fn,
                              _name = name }, Schedule)
  spec[#spec + 1] = { "warmup", 0, "count" }
  read_options(who, opts, spec, self)
  opt.lr = self:get_lr()
  return self
end

function Schedule:get_lr()
  local e, w = self.last_epoch, self.warmup
  if e < w then return self.base_lr * (e + 1) / w end
  return self._fn(self, e - w)
end

function Schedule:step()
  self.last_epoch = self.last_epoch + 1
  self.optimizer.lr = self:get_lr()
  return self.optimizer.lr
end

function Schedule:state_dict() return { last_epoch = self.last_epoch, base_lr = self.base_lr } end
function Schedule:load_state_dict(sd)
  local who = "optim." .. self._name .. ":load_state_dict"
  E.check(who, "the state", sd, "table")
  E.int(who, "last_epoch", sd.last_epoch, 0)
  E.num(who, "base_lr", sd.base_lr, 0)
  self.last_epoch, self.base_lr = sd.last_epoch, sd.base_lr
  self.optimizer.lr = self:get_lr()
  return self
end

function M.StepLR(opt, opts)
  local s = schedule("StepLR", opt, opts, { { "step_size", nil, "int!" }, { "gamma", 0.1, "nonneg" } },
    function(s, e) return s.base_lr * s.gamma ^ (e // s.step_size) end)
  return s
end
doc(M.StepLR, "optim.StepLR(opt, {step_size [, gamma=0.1] [, warmup=0]})\n\nA schedule: after "
  .. "e calls of sched:step(), opt.lr = lr0 gamma^floor(e/step_size).  With warmup = w, the "
  .. "first w epochs ramp lr0 (e+1)/w and the schedule starts after them.  Methods: "
  .. "sched:step() (returns the new lr), sched:get_lr(), sched:state_dict(), "
  .. "sched:load_state_dict(sd).")

function M.ExponentialLR(opt, opts)
  local s = schedule("ExponentialLR", opt, opts, { { "gamma", nil, "nonneg!" } },
    function(s, e) return s.base_lr * s.gamma ^ e end)
  return s
end
doc(M.ExponentialLR, "optim.ExponentialLR(opt, {gamma [, warmup=0]})\n\nA schedule: "
  .. "opt.lr = lr0 gamma^e after e calls of sched:step().")

function M.CosineAnnealingLR(opt, opts)
  local s = schedule("CosineAnnealingLR", opt, opts, { { "T_max", nil, "int!" }, { "eta_min", 0, "nonneg" } },
    function(s, e)
      return s.eta_min + (s.base_lr - s.eta_min) * (1 + cos(pi * e / s.T_max)) / 2
    end)
  return s
end
doc(M.CosineAnnealingLR, "optim.CosineAnnealingLR(opt, {T_max [, eta_min=0] [, warmup=0]})\n\n"
  .. "A schedule: opt.lr = eta_min + (lr0 - eta_min)(1 + cos(pi e/T_max))/2 after e calls of "
  .. "sched:step().")

return M
