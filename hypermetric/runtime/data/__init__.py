"""Rooms of the runtime, in the order a run flows through them: first the data. `Dataset` reads rows
lazily from records or files (`sources`), and `sharding` cuts the rows still to do into batches of
consecutive row ids."""
