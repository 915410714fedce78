"""Statistics over results tables: aggregates over axes, bootstrap confidence intervals, paired significance
tests against a baseline key, and comparison with an earlier table.

Every function takes `pyarrow.Table`s (a string column per axis, `status`, then the values, as `results`
builds them) or numpy arrays, and returns tables in long form: one row per group and metric, so that the
same rows serve a terminal table, a file and a chart. numpy and pyarrow are imported by the modules, never
here, so that importing the package costs nothing until a statistic is asked for.
"""
