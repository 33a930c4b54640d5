#!/usr/bin/env python3
"""Fit the rational erf used by crate/src/ops/gelu/math.rs: erf(x) ~ x * P(x^2) / Q(x^2) on [0, 4].

Linearised least squares (x P - erf(x) Q = 0 with Q(0) = 1) on Chebyshev-spaced points, then
Lawson reweighting towards the minimax fit: points with larger error get more weight. Needs mpmath
(40 digits, so the fit itself adds no rounding). Prints the coefficients and the max error.

    python3 scripts/fit-erf.py        # ~5 s
"""
import sys

if __name__ == "__main__" and {"-h", "--help"} & set(sys.argv[1:]):
    print(__doc__.strip())
    sys.exit(0)

from mpmath import mp, mpf, matrix, lu_solve, erf, cos, pi

mp.dps = 40
P_TERMS, Q_DEGREE, X_MAX, POINTS, ROUNDS = 6, 5, 4, 600, 12

xs = [mpf(X_MAX) * (1 - cos(pi * (i + mpf(1) / 2) / POINTS)) / 2 for i in range(POINTS)]
ys = [erf(x) for x in xs]


def poly(coefficients, x):
    return sum(c * x**k for k, c in enumerate(coefficients))


def fit(weights):
    n = P_TERMS + Q_DEGREE
    normal, rhs = matrix(n, n), matrix(n, 1)
    for x, y, w in zip(xs, ys, weights):
        x2 = x * x
        row = [w * x * x2**k for k in range(P_TERMS)] + [-w * y * x2**k for k in range(1, Q_DEGREE + 1)]
        for i in range(n):
            rhs[i] += row[i] * w * y
            for j in range(n):
                normal[i, j] += row[i] * row[j]
    c = lu_solve(normal, rhs)
    return [c[i] for i in range(P_TERMS)], [mpf(1)] + [c[P_TERMS + i] for i in range(Q_DEGREE)]


weights = [mpf(1)] * POINTS
for _ in range(ROUNDS):
    p, q = fit(weights)
    errors = [abs(x * poly(p, x * x) / poly(q, x * x) - y) for x, y in zip(xs, ys)]
    worst = max(errors)
    weights = [w * (1 + e / worst) for w, e in zip(weights, errors)]

print(f"max |error| on [0, {X_MAX}]: {float(worst):.2e}")
print("const ERF_P: [f32; %d] = [%s];" % (len(p), ", ".join(f"{float(c):.8e}" for c in p)))
print("const ERF_Q: [f32; %d] = [%s];" % (len(q), ", ".join(f"{float(c):.8e}" for c in q)))
