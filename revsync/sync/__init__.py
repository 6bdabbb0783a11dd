"""The full sync: its workflow inputs and results, run records and checkpoints, partitions,
and the client that starts it."""
