"""Parameter sweeps and the latency-under-load benchmark, run on Dask distributed.

A sweep is the Cartesian product of grid values x seeds; every (point, seed) is one ordinary
`run_scenario` into its own run directory, so a sweep is nothing but many normal runs plus a table.
Modules, one job each:

* `grid`    -- `--grid key=v1,v2` parsing, points and their stable ids;
* `stats`   -- Student-t quantiles and confidence intervals (no scipy);
* `kpis`    -- which numbers a run contributes, and from which file;
* `tasks`   -- what a worker executes for one (point, seed), and reading finished runs back;
* `cluster` -- opening a local or remote Dask client;
* `sweep`   -- planning (validation, resume) and executing a sweep on a client or serially;
* `results` -- aggregating runs into per-point rows with means and 95 % CIs, CSV/Parquet output;
* `config`  -- the benchmark configurations in `sim/sweep/configs/*.yaml`;
* `latency` -- the `bench latency` pipeline (config -> sweep -> table);
* `plots`   -- the benchmark's PNG figures (matplotlib, Agg);
* `errors`  -- `SweepError`, the package's one-line input errors;
* `cli`     -- the `sweep` and `bench` subcommands (the only module that prints).
"""
