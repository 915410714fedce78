"""Last, the result: its columns (`columns`), the reductions a summary can ask for (`reductions`) and the
`RunResult` with the summary printed after a run (`summary`)."""
