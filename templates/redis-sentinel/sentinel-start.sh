#!/bin/sh
# Start script of a Sentinel of kq's in-cluster Sentinel set (kq manifests --redis-mode sentinel).
#
# Sentinel rewrites its config file as it learns (replicas, other Sentinels, the current epoch), so the
# config is written afresh to a writable volume on each start. The primary to monitor is, in order:
# what another Sentinel names, a data pod that says ROLE master, or else the first data pod; a Sentinel
# that restarts after a failover therefore monitors the promoted replica, not the old primary.
# Hostnames, not pod IPs, are resolved and announced: a pod's IP changes when it restarts.
#
# Env (the StatefulSet sets them; test/k8s/redis-sentinel-failover.test.ts runs this file on loopback):
#   REDIS_PASSWORD   data nodes' password (auth-pass) and this Sentinel's own (requirepass)
#   ANNOUNCE_HOST    this pod's stable name;  SENTINEL_PORT  port to listen on and announce (26379)
#   DATA_NODES       "host:port ..." of every data pod, the first data pod first
#   SENTINELS        "host:port ..." of every Sentinel (this one included)
#   MASTER_NAME (kq), QUORUM (2), DOWN_AFTER_MS (5000), FAILOVER_TIMEOUT_MS (60000)
#   CONF_DIR         writable directory for sentinel.conf (/data);  BIND (optional, e.g. 127.0.0.1)
set -eu
: "${REDIS_PASSWORD:?}" "${ANNOUNCE_HOST:?}" "${DATA_NODES:?}" "${SENTINELS:?}"
SENTINEL_PORT=${SENTINEL_PORT:-26379}
MASTER_NAME=${MASTER_NAME:-kq}
QUORUM=${QUORUM:-2}
DOWN_AFTER_MS=${DOWN_AFTER_MS:-5000}
FAILOVER_TIMEOUT_MS=${FAILOVER_TIMEOUT_MS:-60000}
CONF_DIR=${CONF_DIR:-/data}
export REDISCLI_AUTH="$REDIS_PASSWORD"
self="$ANNOUNCE_HOST:$SENTINEL_PORT"

ask() {
  peer=$1
  shift
  timeout 3 redis-cli --no-auth-warning --raw -h "${peer%:*}" -p "${peer##*:}" "$@" 2>/dev/null || true
}

primary=""
for s in $SENTINELS; do
  [ "$s" = "$self" ] && continue
  set -- $(ask "$s" SENTINEL get-master-addr-by-name "$MASTER_NAME")
  if [ $# -eq 2 ] && [ -n "$2" ] && [ -z "$(printf '%s' "$2" | tr -d 0-9)" ]; then
    primary="$1:$2"
    break
  fi
done
if [ -z "$primary" ]; then
  for n in $DATA_NODES; do
    if [ "$(ask "$n" ROLE | head -n 1)" = "master" ]; then
      primary=$n
      break
    fi
  done
fi
[ -z "$primary" ] && primary=${DATA_NODES%% *}

# Sentinel refuses to start on a name it cannot resolve: wait (bounded) for the primary to answer.
i=0
while [ "$(ask "$primary" PING)" != "PONG" ] && [ $i -lt 60 ]; do
  i=$((i + 1))
  sleep 1
done
echo "kq-sentinel: monitoring $MASTER_NAME at $primary"

conf="$CONF_DIR/sentinel.conf"
{
  echo "port $SENTINEL_PORT"
  [ -n "${BIND:-}" ] && echo "bind $BIND"
  echo "dir $CONF_DIR"
  echo "sentinel resolve-hostnames yes"
  echo "sentinel announce-hostnames yes"
  echo "sentinel announce-ip $ANNOUNCE_HOST"
  echo "sentinel announce-port $SENTINEL_PORT"
  echo "requirepass $REDIS_PASSWORD"
  echo "sentinel monitor $MASTER_NAME ${primary%:*} ${primary##*:} $QUORUM"
  echo "sentinel auth-pass $MASTER_NAME $REDIS_PASSWORD"
  echo "sentinel down-after-milliseconds $MASTER_NAME $DOWN_AFTER_MS"
  echo "sentinel failover-timeout $MASTER_NAME $FAILOVER_TIMEOUT_MS"
  echo "sentinel parallel-syncs $MASTER_NAME 1"
} >"$conf"
chmod 600 "$conf"
exec redis-server "$conf" --sentinel
