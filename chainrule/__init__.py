"""chainrule: backpropagation as the chain rule over a graph of closures, one float per node."""

from chainrule import math
from chainrule.compiler import jit
from chainrule.compiler.batch import vmap
from chainrule.derivatives.forward import jvp
from chainrule.derivatives.gradcheck import GradcheckError, gradcheck
from chainrule.derivatives.gradients import grad, value_and_grad
from chainrule.derivatives.hessians import hessian, hvp
from chainrule.derivatives.jacobians import jacfwd, jacobian
from chainrule.engine import Value
from chainrule.grad_mode import enable_grad, no_grad
from chainrule.losses import hinge, mse, sum_squared_error
from chainrule.math.floatlike import Comparison, equal, not_equal, where
from chainrule.math.primitive import primitive
from chainrule.nn import MLP, Layer, Module, Neuron
from chainrule.optim import SGD, Adam
from chainrule.show.drawing import draw, to_dot
from chainrule.show.explain import explain
from chainrule.show.walkthrough import walkthrough
from chainrule.storage.checkpoint import CheckpointError, load, save

__all__ = [
    "MLP",
    "SGD",
    "Adam",
    "CheckpointError",
    "Comparison",
    "GradcheckError",
    "Layer",
    "Module",
    "Neuron",
    "Value",
    "draw",
    "enable_grad",
    "equal",
    "explain",
    "grad",
    "gradcheck",
    "hessian",
    "hinge",
    "hvp",
    "jacfwd",
    "jacobian",
    "jit",
    "jvp",
    "load",
    "math",
    "mse",
    "no_grad",
    "not_equal",
    "primitive",
    "save",
    "sum_squared_error",
    "to_dot",
    "value_and_grad",
    "vmap",
    "walkthrough",
    "where",
]
__version__ = "0.1.0"
