"""The web view of alloc: `alloc serve` (app) and `alloc publish` (a static site). Pages only
lay out what the Python API computes (`alloc.web.pages`)."""
