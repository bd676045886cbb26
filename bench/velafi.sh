#!/usr/bin/env bash
# What operators run today to get a Velafi token: date | openssl | curl.
#   VELAFI_BASE_URL=... VELAFI_API_KEY=... VELAFI_API_SECRET=... bash bench/velafi.sh
# Prints the token.  (The secret is on openssl's command line, visible in ps:
# one of the things tokrun replaces.)
set -euo pipefail
ts=$(date +%s%3N)
query="timestamp=$ts"
sig=$(printf '%s' "$query" | openssl dgst -sha256 -hmac "$VELAFI_API_SECRET" | sed 's/^.* //')
curl -sf -H "X-BH-APIKEY: $VELAFI_API_KEY" \
  "${VELAFI_BASE_URL:-https://api.velafi.com}/v2/token/generate?$query&signature=$sig" \
  | jq -er '.data.token'
