"""Solvers: every line that knows one lives here, one module per backend.

- `highs`: HiGHS in process through highspy (the default): the whole matrix in one `passModel`,
  one instance kept through the levels and warm from the last basis, and the changes a sweep
  makes between solves;
- `pulp`: PuLP's model of the program, solved by CBC or by PuLP's own HiGHS class, each level from
  scratch (the fallback when highspy cannot be loaded, and the yardstick of the fast path).

Both implement `base.Backend`, which `alloc.lp.solve` drives through the goal-programming levels.
Nothing here decides what a level is or how its optimum is held: those are `alloc.lp.program`'s
(`Level.solver_coefs`, `face_threshold`, `level_bound`). A backend module imports its solver
when it is imported: import one only when it is chosen (the default path never loads PuLP).
"""
