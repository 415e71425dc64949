"""Many variants of one scenario (grids, Monte Carlo draws of receipt rates), solved warm on one
built model, and their tables and files."""
