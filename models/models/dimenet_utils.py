"""The radial and angular bases of DimeNet, derived symbolically with sympy.

# NOTE [dimenet bases]
DimeNet (Klicpera et al., 2020, section 4) expands an interatomic distance :math:`d` and
an angle :math:`\\alpha` in the solutions of the Helmholtz equation in a sphere of radius
:math:`c` (the cutoff), for :math:`l = 0, \\ldots, L-1` (``num_spherical``) and
:math:`n = 1, \\ldots, N` (``num_radial``):

.. math::
    a_{ln}(d, \\alpha) = \\sqrt{\\frac{2}{c^3 j_{l+1}^2(z_{ln})}}\\,
    j_l\\left(\\frac{z_{ln}}{c} d\\right) Y_l^0(\\alpha)

where :math:`j_l` is the spherical Bessel function of the first kind, :math:`z_{ln}` its
:math:`n`-th positive root and :math:`Y_l^0` the real spherical harmonic of order 0.
With :math:`x = d / c` the radial part used here is
:math:`\\tilde{j}_{ln}(x) = \\left(\\tfrac12 j_{l+1}^2(z_{ln})\\right)^{-1/2} j_l(z_{ln} x)`
(the constant :math:`c^{-3/2}` is left to the learned weights).

* :math:`j_l` comes from Rayleigh's formula :math:`j_l(x) = (-x)^l \\left(\\frac{1}{x}
  \\frac{d}{dx}\\right)^l \\frac{\\sin x}{x}`, differentiated by sympy.
* The roots :math:`z_{ln}` interlace: :math:`j_l` has exactly one root between two
  consecutive roots of :math:`j_{l-1}`, so each is bracketed and found by Brent's method
  (``scipy.optimize.brentq``), starting from :math:`z_{0n} = n\\pi`.
* :math:`Y_l^0(\\theta) = \\sqrt{\\frac{2l+1}{4\\pi}} P_l(\\cos\\theta)` with the Legendre
  polynomials from Bonnet's recursion :math:`l P_l = (2l-1) z P_{l-1} - (l-1) P_{l-2}`.

The expressions become torch functions with ``sympy.lambdify``; the generated source is
cached per ``(num_spherical, num_radial)`` (:func:`basis_functions`).
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Callable, List, Tuple

import numpy as np
import sympy as sym
import torch

X, THETA, Z = sym.symbols("x theta z")


def spherical_bessel_formulas(n: int) -> List[sym.Expr]:
    """:math:`j_0, \\ldots, j_{n-1}` as sympy expressions in ``x`` (Rayleigh's formula)."""
    f = sym.sin(X) / X
    out = [f]
    for l in range(1, n):
        f = sym.expand(sym.diff(f, X) / X)  # (1/x d/dx)^l sin(x)/x
        out.append(sym.expand(f * (-X) ** l))
    return out


def spherical_bessel(l: int, x: np.ndarray) -> np.ndarray:
    """:math:`j_l(x)` numerically, for root finding."""
    from scipy.special import spherical_jn
    return spherical_jn(l, x)


def spherical_bessel_zeros(n: int, k: int) -> np.ndarray:
    """``[n, k]``: the first ``k`` positive roots of :math:`j_0, \\ldots, j_{n-1}`."""
    from scipy.optimize import brentq
    zeros = np.zeros((n, k))
    points = np.arange(1, k + n) * np.pi  # roots of j_0, enough to bracket the rest
    zeros[0] = points[:k]
    for l in range(1, n):
        roots = np.array([brentq(lambda r: spherical_bessel(l, r), a, b, xtol=1e-15)
                          for a, b in zip(points[:-1], points[1:])])
        zeros[l] = roots[:k]
        points = roots
    return zeros


def bessel_basis(n: int, k: int) -> List[List[sym.Expr]]:
    """``[n][k]`` normalised radial functions :math:`\\tilde{j}_{ln}(x)` (NOTE [dimenet
    bases])."""
    zeros = spherical_bessel_zeros(n, k)
    formulas = spherical_bessel_formulas(n + 1)
    out = []
    for l in range(n):
        row = []
        for i in range(k):
            norm = 1.0 / math.sqrt(0.5 * float(spherical_bessel(l + 1, zeros[l, i])) ** 2)
            row.append(norm * formulas[l].subs(X, zeros[l, i] * X))
        out.append(row)
    return out


def legendre_polynomials(n: int) -> List[sym.Expr]:
    """:math:`P_0, \\ldots, P_{n-1}` in ``z`` by Bonnet's recursion."""
    out = [sym.Integer(1)]
    if n > 1:
        out.append(Z)
    for l in range(2, n):
        out.append(sym.simplify(((2 * l - 1) * Z * out[l - 1] - (l - 1) * out[l - 2]) / l))
    return out[:n]


def real_sph_harm(n: int) -> List[sym.Expr]:
    """:math:`Y_0^0, \\ldots, Y_{n-1}^0` as sympy expressions in ``theta``."""
    return [sym.simplify(sym.sqrt((2 * l + 1) / (4 * sym.pi)) * p.subs(Z, sym.cos(THETA)))
            for l, p in enumerate(legendre_polynomials(n))]


def _to_torch(expr: sym.Expr, var: sym.Symbol) -> Tuple[Callable, str]:
    """A torch function of one tensor for ``expr`` and its generated source."""
    modules = [{"sin": torch.sin, "cos": torch.cos}, "math"]
    if not expr.free_symbols:  # a constant: keep the input's shape, dtype and device
        value = float(expr)
        return (lambda t: torch.full_like(t, value)), f"def f({var}): return {value!r}"
    fn = sym.lambdify([var], expr, modules)
    return fn, sym.pycode(expr)


@lru_cache(maxsize=None)
def basis_functions(num_spherical: int, num_radial: int
                    ) -> Tuple[Tuple[Callable, ...], Tuple[Callable, ...], Tuple[str, ...]]:
    """``(radial, angular, sources)``: ``num_spherical * num_radial`` radial torch
    functions of :math:`x = d/c` (order ``l`` major), ``num_spherical`` angular functions
    of :math:`\\theta`, and the generated source of each; computed once per size."""
    if num_spherical < 1 or num_radial < 1:
        raise ValueError(f"DimeNet: 'num_spherical' and 'num_radial' must be positive, got "
                         f"{num_spherical} and {num_radial}")
    radial, angular, sources = [], [], []
    for row in bessel_basis(num_spherical, num_radial):
        for expr in row:
            fn, src = _to_torch(expr, X)
            radial.append(fn)
            sources.append(src)
    for expr in real_sph_harm(num_spherical):
        fn, src = _to_torch(expr, THETA)
        angular.append(fn)
        sources.append(src)
    return tuple(radial), tuple(angular), tuple(sources)


__all__: List[str] = []
