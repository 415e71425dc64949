"""Stage 2, the linear program: `Plan` -> program -> `Solution`.

In: a validated `Plan`. Out: `alloc.lp.solution.Solution` (status, objective per goal-programming
level, the allocation, every rule with its activity, slack and shadow price), checked by an
independent verification (`verify`) that shares no code with the builder (`build`).

- `program`: the program as data (rows, columns, levels) and what a solver is handed for a level;
- `build`: the program of a plan, one function per rule group;
- `backends`: every line that knows a solver, one module per backend (`highs`, `pulp`);
- `solve`: the choice of backend, the levels in order, the checked `Solution`;
- `verify`: the independent check, one function per rule group;
- `solution`: the result that tables, writers and explanations read.
"""
