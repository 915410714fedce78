"""Second, the driver and its pools: `driver` feeds batches to workers under a bound on rows in flight and
routes their results to evaluators; `pool` is the interface it schedules on (`LocalPool` in this process,
`actors.RayPool` on Ray); `execute` is what a worker does with a batch, and `notices` what it says of rows
that fail."""
