"""chainrule: backpropagation as the chain rule over a graph of closures, one float per node."""

from chainrule.check import GradcheckError, gradcheck
from chainrule.compiler import jit
from chainrule.engine import Value
from chainrule.grad_mode import no_grad
from chainrule.losses import hinge, mse, sum_squared_error
from chainrule.nn import MLP, Layer, Module, Neuron
from chainrule.optim import SGD, Adam

__all__ = [
    "MLP",
    "SGD",
    "Adam",
    "GradcheckError",
    "Layer",
    "Module",
    "Neuron",
    "Value",
    "gradcheck",
    "hinge",
    "jit",
    "mse",
    "no_grad",
    "sum_squared_error",
]
__version__ = "0.1.0"
