"""Serve the reference server under the container contract (PORT, HOST, STARFISH_CONFIG, STARFISH_PREFIX).

Imports only reference_server and protocol, so the image needs the server's runtime dependencies only
(uvicorn, cryptography, argon2-cffi, jsonschema), not the harness's (pytest, Locust, schemathesis, ...).
"""

import argparse
import os
import sys

from reference_server.cli import add_arguments, run_serve

parser = argparse.ArgumentParser(prog="reference-server")
add_arguments(parser)
args = parser.parse_args(["--host", os.environ.get("HOST", "0.0.0.0"), "--port", os.environ.get("PORT", "8080"),
                          "--prefix", os.environ.get("STARFISH_PREFIX", "/v1"),
                          "--config", os.environ.get("STARFISH_CONFIG", "/etc/starfish/config.json")])
sys.exit(run_serve(args))
