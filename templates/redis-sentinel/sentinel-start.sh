#!/bin/sh
# Start script of a Sentinel of kq's in-cluster Sentinel set (kq manifests --redis-mode sentinel).
#
# Sentinel rewrites its config file as it learns (the current primary, its own id, the epochs, replicas
# and other Sentinels). The file lives on a volume and is written whole only when absent: on a restart
# the Sentinel keeps what it learned, so after a restart of the whole set (every data pod and every
# Sentinel) it still names the last primary, not the first data pod, whose data may be older. Settings
# that come from the env (password, timeouts, quorum) are written again on every start.
# The primary to monitor is, in order: what another Sentinel names, what this Sentinel's own file
# names, a data pod that says ROLE master, or else the first data pod.
# Hostnames, not pod IPs, are resolved and announced: a pod's IP changes when it restarts.
#
# Env (the StatefulSet sets them; test/k8s/redis-sentinel-failover.test.ts runs this file on loopback):
#   REDIS_PASSWORD   data nodes' password (auth-pass) and this Sentinel's own (requirepass)
#   ANNOUNCE_HOST    this pod's stable name;  SENTINEL_PORT  port to listen on and announce (26379)
#   DATA_NODES       "host:port ..." of every data pod, the first data pod first
#   SENTINELS        "host:port ..." of every Sentinel (this one included)
#   MASTER_NAME (kq), QUORUM (2), DOWN_AFTER_MS (5000), FAILOVER_TIMEOUT_MS (60000)
#   CONF_DIR         directory of sentinel.conf, kept across restarts (/conf);  BIND (optional)
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

conf="$CONF_DIR/sentinel.conf"
# What this Sentinel learned before it stopped (nothing on its first start).
stored=""
learned=""
if [ -s "$conf" ]; then
  stored=$(sed -n "s/^sentinel monitor $MASTER_NAME \([^ ]*\) \([0-9][0-9]*\) .*/\1:\2/p" "$conf" | head -n 1)
  learned=$(grep -E "^sentinel (myid|current-epoch) |^sentinel (config-epoch|leader-epoch|known-replica|known-sentinel) $MASTER_NAME " "$conf" || true)
fi

primary=""
for s in $SENTINELS; do
  [ "$s" = "$self" ] && continue
  set -- $(ask "$s" SENTINEL get-master-addr-by-name "$MASTER_NAME")
  if [ $# -eq 2 ] && [ -n "$2" ] && [ -z "$(printf '%s' "$2" | tr -d 0-9)" ]; then
    primary="$1:$2"
    break
  fi
done
[ -z "$primary" ] && primary=$stored
if [ -z "$primary" ]; then
  for n in $DATA_NODES; do
    if [ "$(ask "$n" ROLE | head -n 1)" = "master" ]; then
      primary=$n
      break
    fi
  done
fi
[ -z "$primary" ] && primary=${DATA_NODES%% *}

# Whether host:port's name resolves: redis-cli says so when it cannot connect for that reason.
resolves() {
  out=$(timeout 3 redis-cli --no-auth-warning -h "${1%:*}" -p "${1##*:}" PING 2>&1 || true)
  case "$out" in
  *resolve* | *"not known"* | *nodename* | *"name resolution"*) return 1 ;;
  esac
  return 0
}
# Sentinel refuses to start on a name it cannot resolve. A fresh set waits (bounded) for the primary to
# answer; a restarted Sentinel only for its name, as that primary may itself be waiting for the
# Sentinels to name it (redis-start.sh, step 3).
i=0
if [ -n "$learned" ]; then
  while ! resolves "$primary" && [ $i -lt 60 ]; do
    i=$((i + 1))
    sleep 1
  done
else
  while [ "$(ask "$primary" PING)" != "PONG" ] && [ $i -lt 60 ]; do
    i=$((i + 1))
    sleep 1
  done
fi
echo "kq-sentinel: monitoring $MASTER_NAME at $primary${learned:+ (kept state from $conf)}"

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
  if [ -n "$learned" ]; then printf '%s\n' "$learned"; fi
} >"$conf.new"
chmod 600 "$conf.new"
mv "$conf.new" "$conf"
exec redis-server "$conf" --sentinel
