"""Stage 1, the model: files -> a validated `Plan`.

In: a project folder (`models/<name>/`, `scenarios/<name>.toml`) and a scenario's name or path.
Out: `alloc.model.domain.Plan`, typed and immutable, or an `InputError` naming every problem at
once (file, field, what was expected, what to do). Reads files and resolves scenarios
(`files`, `scenario`), guards memory before parsing large files (`size`), validates (`validate`,
one part per input file or section); `load.load_plan` does all of it. Knows nothing of linear
programs, solvers or reports.
"""
