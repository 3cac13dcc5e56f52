// Serve the official TypeScript server (npm @drakkar.software/starfish-server) under the harness's
// target contract. Installed with `npm ci` from the committed package-lock.json into a cache folder.
// Environment:
//   PORT                      port to listen on (required)
//   HOST                      listen address, default 127.0.0.1 (containers use 0.0.0.0)
//   STARFISH_CONFIG           path to a standard collection config (required)
//   STARFISH_PREFIX           mount prefix, default /v1
//   STARFISH_NONCE_PER_SIGNER per-signer live-nonce limit (default: the server's own, 4096)
//   STARFISH_NONCE_MAX        total live-nonce limit (default: the server's own, 100000)
//   STARFISH_SHARING          1 (default): register the sharing plugin, so member and audience caps are
//                             accepted (without it the server refuses every such cap with 401); 0: device caps only
// Wiring follows ../shared/notes/official-servers.md; the generated OpenAPI document is served at
// <prefix>/openapi.json.
import { readFileSync } from "node:fs";
import { Hono } from "hono";
import { serve } from "@hono/node-server";
import {
  MemoryObjectStore,
  createCapCertRoleResolver,
  createInMemoryNonceCache,
  createInMemoryRevocationStore,
  createSyncRouter,
  defaultServerPlugin,
  generateOpenApiSpec,
  parseConfigJson,
} from "@drakkar.software/starfish-server";
import { sharingServerPlugin } from "@drakkar.software/starfish-sharing";

function fail(message) {
  process.stderr.write(`launcher: ${message}\n`);
  process.exit(2);
}

function intEnv(name) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d+$/.test(raw)) fail(`${name} must be an integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

const port = intEnv("PORT");
if (port === undefined) fail("PORT must be set");
const configPath = process.env.STARFISH_CONFIG;
if (!configPath) fail("STARFISH_CONFIG must name a collection config file");
const prefix = (process.env.STARFISH_PREFIX ?? "/v1").replace(/\/+$/, "");
const hostname = process.env.HOST || "127.0.0.1";

const config = parseConfigJson(readFileSync(configPath, "utf8"));
const nonceOptions = {};
const perSigner = intEnv("STARFISH_NONCE_PER_SIGNER");
if (perSigner !== undefined) nonceOptions.perSignerLimit = perSigner;
const maxEntries = intEnv("STARFISH_NONCE_MAX");
if (maxEntries !== undefined) nonceOptions.maxEntries = maxEntries;

const sync = createSyncRouter({
  store: new MemoryObjectStore(new Map()),
  config,
  roleResolver: createCapCertRoleResolver({
    nonceCache: createInMemoryNonceCache(nonceOptions),
    revocationStore: createInMemoryRevocationStore(),
    allowAnonymous: true,
    plugins: process.env.STARFISH_SHARING === "0" ? [defaultServerPlugin] : [defaultServerPlugin, sharingServerPlugin],
  }),
  configEndpoint: { auth: "public" },
});
const spec = generateOpenApiSpec(config);

const app = new Hono();
app.get(`${prefix}/openapi.json`, (c) => c.json(spec));
app.route(prefix || "/", sync);

serve({ fetch: app.fetch, hostname, port }, (info) => {
  process.stdout.write(`starfish-server-ts listening on http://${hostname}:${info.port}${prefix}\n`);
});
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
