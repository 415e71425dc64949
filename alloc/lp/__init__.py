"""Stage 2, the linear program: `Plan` -> program -> `Solution`.

In: a validated `Plan`. Out: `alloc.lp.solution.Solution` (status, objective per goal-programming
level, the allocation, every rule with its activity, slack and shadow price), checked by an
independent verification (`verify`) that shares no code with the builder (`build`). Every line
that knows a solver lives in `alloc.lp.backends`.
"""
