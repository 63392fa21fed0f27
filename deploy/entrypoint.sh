#!/bin/sh
# The image's entrypoint: secrets arrive as files (deploy/docker-compose.yml mounts them), but
# Dagster reads its database password from the environment only (deploy/dagster.yaml).
set -eu
if [ -n "${RECON_PG_PASSWORD_FILE:-}" ]; then
    RECON_PG_PASSWORD=$(cat "$RECON_PG_PASSWORD_FILE")
    export RECON_PG_PASSWORD
fi
exec "$@"
