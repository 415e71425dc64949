"""alloc: link a strategic plan to its financial plan with a linear program."""

__version__ = "0.1.0"
