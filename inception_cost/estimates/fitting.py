"""Nelder-Mead minimisation in pure Python (no NumPy): small, bounded in evaluations."""

from __future__ import annotations

from collections.abc import Callable, Sequence

Vector = list[float]


def nelder_mead(f: Callable[[Vector], float], start: Sequence[float], step: float = 0.3,
                max_evals: int = 2000, tolerance: float = 1e-7) -> tuple[Vector, float]:
    """(the best point found, its value), after at most `max_evals` evaluations of `f`.

    Restarts once from the best point with a fresh simplex, the usual remedy for a
    simplex that collapsed early."""
    best, value = list(start), f(list(start))
    evals = 1
    for _ in range(2):
        best, value, used = _run(f, best, value, step, max_evals - evals, tolerance)
        evals += used
        if evals >= max_evals:
            break
    return best, value


def _run(f: Callable[[Vector], float], x0: Vector, f0: float, step: float, budget: int,
         tolerance: float) -> tuple[Vector, float, int]:
    n = len(x0)
    simplex = [x0] + [[x + (step if i == j else 0.0) for j, x in enumerate(x0)] for i in range(n)]
    values = [f0] + [f(p) for p in simplex[1:]]
    evals = n
    while evals < budget:
        order = sorted(range(n + 1), key=values.__getitem__)
        simplex, values = [simplex[i] for i in order], [values[i] for i in order]
        if values[-1] - values[0] <= tolerance * (abs(values[0]) + tolerance):
            break
        centroid = [sum(p[j] for p in simplex[:-1]) / n for j in range(n)]
        worst = simplex[-1]

        def towards(t: float, worst: Vector = worst, centroid: Vector = centroid) -> Vector:
            return [c + t * (w - c) for c, w in zip(centroid, worst)]

        reflected = towards(-1.0)
        fr = f(reflected)
        evals += 1
        if fr < values[0]:
            expanded = towards(-2.0)
            fe = f(expanded)
            evals += 1
            simplex[-1], values[-1] = (expanded, fe) if fe < fr else (reflected, fr)
        elif fr < values[-2]:
            simplex[-1], values[-1] = reflected, fr
        else:
            contracted = towards(0.5 if fr >= values[-1] else -0.5)
            fc = f(contracted)
            evals += 1
            if fc < min(fr, values[-1]):
                simplex[-1], values[-1] = contracted, fc
            else:  # shrink towards the best point
                for i in range(1, n + 1):
                    simplex[i] = [b + 0.5 * (p - b) for b, p in zip(simplex[0], simplex[i])]
                    values[i] = f(simplex[i])
                evals += n
    i = min(range(n + 1), key=values.__getitem__)
    return simplex[i], values[i], evals
