"""The input workbook: a resolved scenario as an Excel workbook (`write_template`), and such a
workbook, edited, back to a scenario file of only what changed (`import_workbook`).

The text files stay the source of truth; the workbook is a way in for people who work in Excel.
"""

from alloc.inputbook.read import Imported, import_workbook
from alloc.inputbook.template import write_template

__all__ = ["Imported", "import_workbook", "write_template"]
