"""taskgym's benchmarks, run from the checkout root: ``python -m bench.<name>`` for one,
``python -m bench`` to list them or run several. Every figure is a ratio against a
baseline measured in the same run (the machine is shared and noisy; absolute times mean
little); docs/performance.md records them with the command that produced each."""
