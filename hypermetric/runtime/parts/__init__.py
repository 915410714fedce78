"""Fourth, parts and reconciliation: evaluators flush scored rows to Parquet parts (`sink`), each with
its `tally`; `reconcile` makes one table of them; `arrow_memory` says which memory Arrow uses meanwhile, and
`arrow_pandas` keeps pandas out of the runtime's own processes until something there imports it."""
