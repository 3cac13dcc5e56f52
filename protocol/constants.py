"""Constants that travel on the wire, defined once.

Sources: the wire digest (`../shared/spec/starfish-v3-wire-digest.md`), sections named per constant.
"""

from __future__ import annotations

# Domain tags prefixed to every signed input (digest §5.3). Each ends in a single LF byte.
CAPCERT_DOMAIN = "starfish-capcert-v1\n"
REQUEST_DOMAIN = "starfish-req-v1\n"
APPEND_AUTHOR_DOMAIN = "starfish-append-author-v1\n"
DOC_AUTHOR_DOMAIN = "starfish-doc-author-v1\n"
REVLIST_DOMAIN = "starfish-revlist-v1\n"
DOMAINS = (CAPCERT_DOMAIN, REQUEST_DOMAIN, APPEND_AUTHOR_DOMAIN, DOC_AUTHOR_DOMAIN, REVLIST_DOMAIN)

# Request-auth headers (digest §5.1). HTTP header names are case-insensitive; these are the spellings we send.
HEADER_AUTHORIZATION = "Authorization"
HEADER_SIG = "X-Starfish-Sig"
HEADER_TS = "X-Starfish-Ts"
HEADER_NONCE = "X-Starfish-Nonce"
HEADER_PUB = "X-Starfish-Pub"
CAP_SCHEME_PREFIX = "Cap "

# Time windows (digest §5.2, §5.6, §5.7).
MAX_REQUEST_SKEW_MS = 300_000
CAP_CLOCK_SKEW_SEC = 300
NONCE_WINDOW_MS = 600_000
APPEND_FUTURE_TS_LIMIT_MS = 300_000

# Cap-cert shape (digest §5.2).
CAP_KINDS = ("device", "member", "audience")
CAP_OPS = ("read", "write", "list")
CAP_NONCE_BYTES = 16
AUDIENCE_MAX_ENTRIES = 64
MAX_CAP_HEADER_BYTES = 8192

# Document model (digest §3).
DOCUMENT_VERSION = 1
UNSAFE_KEYS = frozenset({"__proto__", "constructor", "prototype", "__class__", "__dict__"})
MAX_JSON_DEPTH = 64
EMPTY_BODY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

# Body fields (digest §1.9, §1.10).
FIELD_DATA = "data"
FIELD_BASE_HASH = "baseHash"
FIELD_TS = "ts"
FIELD_AUTHOR_PUBKEY = "authorPubkey"
FIELD_AUTHOR_SIGNATURE = "authorSignature"

# Identity derivation (identity-derivation.json constants).
ARGON2_MEMORY_KIB = 47104
ARGON2_ITERATIONS = 3
ARGON2_PARALLELISM = 1
ARGON2_HASH_LEN = 32
ARGON2_SALT = b"starfish-v3-root"
ROOT_ED_HKDF_SALT = b"starfish-root-sign"
ROOT_ED_HKDF_INFO = b"ed25519"
ROOT_KEM_HKDF_SALT = b"starfish-root-kem"
ROOT_KEM_HKDF_INFO = b"x25519"
USER_ID_HEX_LEN = 32

# Delegated encryption (digest §8).
KEYRING_WRAP_SALT = b"starfish-wrap"
KEYRING_WRAP_INFO = b"starfish-wrap"
AES_GCM_IV_BYTES = 12
ENCRYPTED_FIELD = "_encrypted"
EPOCH_FIELD = "_epoch"
