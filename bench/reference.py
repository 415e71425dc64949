#!/usr/bin/env python
"""The reference of bench/bench.py: the level sequence alloc solves, in plain highspy.

Also a program of its own, the reference's side of the end-to-end ratio: a fresh process that
loads the LP alloc built (saved by bench.py with numpy: CSC matrix, row bounds, each level's
columns, costs and HiGHS options), solves it, saves the column values with numpy and prints each
level's optimum as JSON. It imports numpy and highspy and nothing of alloc's:

    python bench/reference.py LP.npz X.npy
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RefLevel:
    """One level as the reference hands it to HiGHS: its columns, the (scaled) linear and
    quadratic costs handed to the solver, the unscaled ones and constant its optimum is measured
    and bounded with, and the HiGHS options of that level (the same as alloc's)."""

    cols: np.ndarray
    costs: np.ndarray
    hessian: np.ndarray | None
    coefs: np.ndarray
    quadratic: np.ndarray | None
    constant: float
    options: dict

    def value(self, x: np.ndarray) -> float:
        v = x[self.cols]
        z = self.constant + float(self.coefs @ v)
        return z if self.quadratic is None else z + 0.5 * float(self.quadratic @ (v * v))


def reference_solve(start: np.ndarray, index: np.ndarray, value: np.ndarray, n_cols: int,
                    row_lower: np.ndarray, row_upper: np.ndarray, levels: list[RefLevel],
                    tolerance: float, options: dict) -> tuple[list[float], np.ndarray]:
    """The level sequence in plain highspy from a CSC matrix; objective per level and x.

    A linear level is held on its optimal face (columns of positive reduced cost fixed at zero,
    active rows of non-zero dual made equalities) and by a row bounding its objective; a
    quadratic level (strictly convex in its columns, so their optimum is unique) by fixing its
    columns at their optimal values.
    """
    import highspy

    inf = highspy.kHighsInf
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    for k, v in options.items():
        h.setOptionValue(k, v)
    n_rows = len(row_lower)
    h.passModel(n_cols, n_rows, len(index), int(highspy.MatrixFormat.kColwise),
                int(highspy.ObjSense.kMinimize), 0.0, np.zeros(n_cols), np.zeros(n_cols),
                np.full(n_cols, inf), row_lower, row_upper, start[:-1], index, value,
                np.zeros(n_cols, dtype=np.int32))
    lower, upper = row_lower.copy(), row_upper.copy()
    objectives: list[float] = []
    x = np.zeros(n_cols)
    previous = np.zeros(0, dtype=np.int32)
    no_hessian = (np.zeros(n_cols, np.int32), np.zeros(0, np.int32), np.zeros(0))
    hessian = False
    for k, level in enumerate(levels):
        for key, v in level.options.items():
            h.setOptionValue(key, v)
        h.changeColsCost(len(previous), previous, np.zeros(len(previous)))
        h.changeColsCost(len(level.cols), level.cols, level.costs)
        previous = level.cols
        if level.hessian is None:
            if hessian:  # cleared only when set: passing a Hessian drops the warm basis
                h.passHessian(n_cols, 0, int(highspy.HessianFormat.kTriangular), *no_hessian)
                hessian = False
        else:
            hessian = True
            diagonal = np.zeros(n_cols)
            diagonal[level.cols] = level.hessian
            nz = np.flatnonzero(diagonal).astype(np.int32)
            h.passHessian(n_cols, len(nz), int(highspy.HessianFormat.kTriangular),
                          np.searchsorted(nz, np.arange(n_cols)).astype(np.int32), nz,
                          diagonal[nz])
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"reference: level {k + 1} is {h.getModelStatus()}")
        sol = h.getSolution()
        x = np.asarray(sol.col_value)
        objectives.append(level.value(x))
        if k == len(levels) - 1:
            break
        if level.hessian is not None:
            at = np.maximum(x[level.cols], 0.0)
            h.changeColsBounds(len(level.cols), level.cols, at, at)
            continue
        # the optimal face: columns of positive reduced cost at zero, active rows of non-zero dual
        dj, pi, act = np.asarray(sol.col_dual), np.asarray(sol.row_dual), np.asarray(sol.row_value)
        eps = 1e-9
        fix = np.flatnonzero((dj > eps) & (np.abs(x) <= 1e-9)).astype(np.int32)
        h.changeColsBounds(len(fix), fix, np.zeros(len(fix)), np.zeros(len(fix)))
        le = np.isinf(lower) & np.isfinite(upper)
        ge = np.isfinite(lower) & np.isinf(upper)
        hold = np.flatnonzero((np.abs(pi) > eps) & ((le & (np.abs(upper - act) <= 1e-7))
                                                    | (ge & (np.abs(act - lower) <= 1e-7))))
        lower[hold] = np.where(le[hold], upper[hold], lower[hold])
        upper[hold] = lower[hold]
        h.changeRowsBounds(len(hold), hold.astype(np.int32), lower[hold], upper[hold])
        z = objectives[-1]
        bound = z + tolerance * abs(z) + tolerance - level.constant
        h.addRow(-inf, bound, len(level.cols), level.cols, level.coefs)
        lower, upper = np.append(lower, -inf), np.append(upper, bound)
    return objectives, x


def save(path: str, inputs: tuple, names: list[str]) -> None:
    """The reference's inputs (`bench.reference_inputs`) as one .npz file for `load`."""
    start, index, value, n_cols, lower, upper, levels, tolerance, options = inputs
    arrays = {"start": start, "index": index, "value": value, "row_lower": lower,
              "row_upper": upper}
    meta: dict = {"n_cols": int(n_cols), "tolerance": float(tolerance), "options": options,
                  "names": names, "levels": []}
    for k, level in enumerate(levels):
        arrays.update({f"cols{k}": level.cols, f"costs{k}": level.costs, f"coefs{k}": level.coefs})
        if level.hessian is not None:
            arrays[f"hessian{k}"] = level.hessian
        if level.quadratic is not None:
            arrays[f"quadratic{k}"] = level.quadratic
        meta["levels"].append({"constant": float(level.constant), "options": level.options})
    np.savez(path, meta=np.array(json.dumps(meta, default=float)), **arrays)


def load(path: str) -> tuple[tuple, list[str]]:
    """What `save` wrote: the arguments of `reference_solve` and the level names."""
    data = np.load(path)
    meta = json.loads(str(data["meta"]))

    def get(name: str) -> np.ndarray | None:
        return data[name] if name in data.files else None

    levels = [RefLevel(data[f"cols{k}"], data[f"costs{k}"], get(f"hessian{k}"), data[f"coefs{k}"],
                       get(f"quadratic{k}"), lv["constant"], lv["options"])
              for k, lv in enumerate(meta["levels"])]
    return ((data["start"], data["index"], data["value"], meta["n_cols"], data["row_lower"],
             data["row_upper"], levels, meta["tolerance"], meta["options"]), meta["names"])


def main(argv: list[str]) -> int:
    inputs, names = load(argv[0])
    objectives, x = reference_solve(*inputs)
    np.save(argv[1], x)
    print(json.dumps(dict(zip(names, objectives, strict=True))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
