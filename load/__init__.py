"""Load scenarios (Locust) that measure the server, not the generator, and prove nothing was lost.

One concept per module:
- `keys.py`: per-user device keys, rotated before any reaches a server's per-signer nonce limit;
- `wire.py`: the signed request bytes (path, body, headers) every client here sends;
- `scenarios.py`: what each scenario does per step and which writes it acknowledges;
- `recorder.py`: raw per-request records and the model of acknowledged writes (shipped to the master);
- `locustfile.py`: the Locust user (`locust -f load/locustfile.py` works on its own);
- `engine.py`: starts Locust headless (local or distributed) for the `load` command;
- `audit.py`: after every run, checks every acknowledged write against the server;
- `analysis.py`: exact percentiles, time series, 401 classification, the summary;
- `gates.py`: `--fail-if` expressions;
- `report.py`: report.html with plots, summary.json, CSV;
- `cli.py`: the `starfish-conformance load` command.
"""
