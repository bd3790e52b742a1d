"""chainrule: backpropagation as the chain rule over a graph of closures, one float per node."""

from chainrule.check import GradcheckError, gradcheck
from chainrule.checkpoint import CheckpointError, load, save
from chainrule.engine import Value
from chainrule.functional import grad, value_and_grad
from chainrule.grad_mode import enable_grad, no_grad
from chainrule.losses import hinge, mse, sum_squared_error
from chainrule.nn import MLP, Layer, Module, Neuron
from chainrule.optim import SGD, Adam

__all__ = [
    "MLP",
    "SGD",
    "Adam",
    "CheckpointError",
    "GradcheckError",
    "Layer",
    "Module",
    "Neuron",
    "Value",
    "enable_grad",
    "grad",
    "gradcheck",
    "hinge",
    "load",
    "mse",
    "no_grad",
    "save",
    "sum_squared_error",
    "value_and_grad",
]
__version__ = "0.1.0"
