"""Stage 3, the report: `Solution` -> Appendix A tables -> files.

In: `alloc.lp.solution.Solution`. Out: tables as pure functions of the solution (`tables`,
`rounding`, `support`), written as CSV, Markdown and workbooks (`appendix`, `markdown`,
`workbook`) into a report folder that appears whole or not at all and that alloc alone owns
(`write`, `folders`). `book` is the one policy for every workbook and CSV file alloc writes,
here and in a comparison or a sweep: text stays text, the same inputs give the same bytes.
"""
