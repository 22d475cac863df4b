"""The bad-input corpus's case tables, one module per kind of input.

`tests/library/test_bad_inputs.py` runs every case; `breaks` holds how a case is written.
"""
