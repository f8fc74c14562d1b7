"""Keeping the data directory: its entries read by kind, and removed by last use within a bound.

It reads the formats of every part (the local index's records, stored plans), so it
stands above them, beside the command line and the accelerator that call it; the
low-level parts of the data directory (its layout, lock and private directories)
are in :mod:`pip_accel.datadir`, which everything else may use.
"""
