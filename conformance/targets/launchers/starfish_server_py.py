"""Serve the official Python server (PyPI `starfish-server`) under the harness's target contract.

Run with the official server's own interpreter, never ours. Environment:
  PORT                      port to listen on (required)
  HOST                      listen address, default 127.0.0.1 (containers use 0.0.0.0)
  STARFISH_CONFIG           path to a standard collection config (required)
  STARFISH_PREFIX           mount prefix, default /v1
  STARFISH_NONCE_PER_SIGNER per-signer live-nonce limit (default: the server's own, 4096)
  STARFISH_NONCE_MAX        total live-nonce limit (default: the server's own, 100000)
  STARFISH_SHARING          1 (default): register the sharing plugin (PyPI starfish-sharing), so member
                            and audience caps are accepted (without it every such cap is 401); 0: device caps only
Wiring follows ../shared/notes/official-servers.md: MemoryObjectStore(data={}), the cap-cert role
resolver with anonymous access allowed and the sharing plugin (member and audience caps), the public
/config endpoint, and the server's own
generated OpenAPI document served at <prefix>/openapi.json (FastAPI's own is disabled so it cannot
shadow it).
"""

from __future__ import annotations

import os
import sys


def _int_env(name: str) -> int | None:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        sys.exit(f"launcher: {name} must be an integer, got {raw!r}")


def build_app():  # type: ignore[no-untyped-def]
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse
    from starfish_server import (
        MemoryObjectStore,
        create_in_memory_nonce_cache,
        create_in_memory_revocation_store,
        generate_openapi_spec,
        load_config_file,
    )
    from starfish_server.config.schema import ConfigEndpointOptions
    from starfish_server.router import SyncRouterOptions, create_sync_router
    from starfish_server.router.cap_resolver import create_cap_cert_role_resolver

    config_path = os.environ.get("STARFISH_CONFIG")
    if not config_path:
        sys.exit("launcher: STARFISH_CONFIG must name a collection config file")
    prefix = os.environ.get("STARFISH_PREFIX", "/v1").rstrip("/")
    config = load_config_file(config_path)
    nonce_options = {}
    if (limit := _int_env("STARFISH_NONCE_PER_SIGNER")) is not None:
        nonce_options["per_signer_limit"] = limit
    if (limit := _int_env("STARFISH_NONCE_MAX")) is not None:
        nonce_options["max_entries"] = limit
    from starfish_server.plugins import default_server_plugin

    plugins = [default_server_plugin]
    if os.environ.get("STARFISH_SHARING", "1") != "0":
        from starfish_sharing.plugin import sharing_server_plugin

        plugins.append(sharing_server_plugin)
    resolver = create_cap_cert_role_resolver(
        nonce_cache=create_in_memory_nonce_cache(**nonce_options),
        revocation_store=create_in_memory_revocation_store(),
        allow_anonymous=True,
        plugins=plugins,
    )
    router = create_sync_router(
        SyncRouterOptions(
            store=MemoryObjectStore(data={}),
            config=config,
            role_resolver=resolver,
            config_endpoint=ConfigEndpointOptions(auth="public"),
        )
    )
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.include_router(router, prefix=prefix)
    spec = generate_openapi_spec(config)

    @app.get(f"{prefix}/openapi.json", include_in_schema=False)
    async def openapi() -> JSONResponse:
        return JSONResponse(spec)

    return app


def main() -> None:
    import uvicorn

    port = _int_env("PORT")
    if port is None:
        sys.exit("launcher: PORT must be set")
    host = os.environ.get("HOST") or "127.0.0.1"
    uvicorn.run(build_app(), host=host, port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
