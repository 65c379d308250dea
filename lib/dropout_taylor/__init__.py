"""dropout_taylor: the library behind the book on the Taylor expansion of dropout noise.

Modules, named for what they hold:

* :mod:`~dropout_taylor.logpartition`: softplus, its derivatives of every order, the linear and
  Poisson log-partitions, log-sum-exp;
* :mod:`~dropout_taylor.noise`: dropout, additive and multiplicative Gaussian noise, the exact
  distribution of the score perturbation;
* :mod:`~dropout_taylor.quadrature`: Gaussian expectations by Gauss-Hermite quadrature;
* :mod:`~dropout_taylor.regularizers`: the exact noise regulariser R and its quadratic
  approximation R^q;
* :mod:`~dropout_taylor.series`: Taylor coefficients of softplus, radius and root tests, the
  expected series on exact atoms, the dropout convergence condition (chapter 3);
* :mod:`~dropout_taylor.constraints`, :mod:`~dropout_taylor.fitting`: admissible regions and
  norm balls; L2, R^q and dropout fits of logistic regression (chapter 4);
* :mod:`~dropout_taylor.cumulants`, :mod:`~dropout_taylor.nn`: the softmax cumulant generating
  function and its radius; a small numpy MLP with dropout (chapter 6);
* :mod:`~dropout_taylor.ledger`: reads the verdicts the chapters glued (chapter 7);
* :mod:`~dropout_taylor.checks`: checks that raise on failure and print a short verdict.
"""

from .logpartition import (
    LogPartition,
    linear,
    log_sum_exp,
    logistic,
    poisson,
    sigmoid,
    softmax,
    softplus,
    softplus_derivative,
    softplus_derivative_coefficients,
    softplus_derivative_mp,
    softplus_radius,
)
from .noise import AdditiveGaussian, Dropout, MultiplicativeGaussian, enumerate_masks
from .quadrature import gauss_hermite_expectation
from .regularizers import exact_regularizer, quadratic_regularizer

__all__ = [
    "AdditiveGaussian",
    "Dropout",
    "LogPartition",
    "MultiplicativeGaussian",
    "enumerate_masks",
    "exact_regularizer",
    "gauss_hermite_expectation",
    "linear",
    "log_sum_exp",
    "logistic",
    "poisson",
    "quadratic_regularizer",
    "sigmoid",
    "softmax",
    "softplus",
    "softplus_derivative",
    "softplus_derivative_coefficients",
    "softplus_derivative_mp",
    "softplus_radius",
]
