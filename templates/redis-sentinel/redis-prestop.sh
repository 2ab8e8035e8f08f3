#!/bin/sh
# preStop of a data pod of kq's in-cluster Sentinel set (kq manifests --redis-mode sentinel).
#
# A primary that is about to stop (rollout, node drain, scale-down) asks the Sentinels to promote a
# replica first, so clients move within a second or two instead of failing writes until the Sentinels
# notice it is gone (down-after-milliseconds, then an election). A replica has nothing to do.
# While the failover runs, writes on this pod are paused (CLIENT PAUSE WRITE): a write taken here after
# the replica was promoted would be dropped when this pod becomes a replica, even one that a replica
# confirmed (WAIT). Paused writers get an error once this pod is a replica, and retry on the new primary.
# Bounded by PRESTOP_TIMEOUT_S; on any problem it gives up and lets the pod stop (the Sentinels then
# fail over on their own). It always exits 0: a failed preStop must not delay the stop further.
#
# Env: as redis-start.sh (REDIS_PASSWORD, ANNOUNCE_HOST, REDIS_PORT, SENTINELS, MASTER_NAME) and
#   PRESTOP_TIMEOUT_S  longest wait for the Sentinels to name another primary (20)
set -u
REDIS_PORT=${REDIS_PORT:-6379}
MASTER_NAME=${MASTER_NAME:-kq}
PRESTOP_TIMEOUT_S=${PRESTOP_TIMEOUT_S:-20}
export REDISCLI_AUTH="${REDIS_PASSWORD:-}"
self="${ANNOUNCE_HOST:-}:$REDIS_PORT"

ask() {
  peer=$1
  shift
  timeout 3 redis-cli --no-auth-warning --raw -h "${peer%:*}" -p "${peer##*:}" "$@" 2>/dev/null || true
}

# The primary the first answering Sentinel names, as host:port; empty when none answers.
named() {
  for s in ${SENTINELS:-}; do
    set -- $(ask "$s" SENTINEL get-master-addr-by-name "$MASTER_NAME")
    if [ $# -eq 2 ] && [ -n "$2" ] && [ -z "$(printf '%s' "$2" | tr -d 0-9)" ]; then
      echo "$1:$2"
      return
    fi
  done
}

if [ "$(named)" != "$self" ]; then
  echo "kq-redis preStop: not the primary, nothing to do"
  exit 0
fi
started=$(date +%s)
ask "$self" CLIENT PAUSE $((PRESTOP_TIMEOUT_S * 1000)) WRITE >/dev/null
# A Sentinel answers NOGOODSLAVE while its view of every replica is unpromotable, and that view can be
# stale: it reads each replica's INFO every 10 s, so a replica that synced (and whose start script
# restored its replica-priority) moments ago, as in a rollout that reaches pod 0 right after pod 1 is
# Ready, still looks unpromotable. Ask again each second until PRESTOP_TIMEOUT_S, but only while some
# Sentinel says NOGOODSLAVE: any other refusal (no Sentinel answers, a failover already in progress) gives
# up at once as before, so writes are not held paused for nothing.
answer=""
tries=0
while :; do
  tries=$((tries + 1))
  stale=""
  for s in $SENTINELS; do
    answer=$(ask "$s" SENTINEL FAILOVER "$MASTER_NAME")
    [ "$answer" = "OK" ] && break
    case "$answer" in NOGOODSLAVE*) stale="$answer" ;; esac
  done
  [ "$answer" = "OK" ] && break
  [ -n "$stale" ] || break
  answer="$stale"
  [ $(($(date +%s) - started)) -ge "$PRESTOP_TIMEOUT_S" ] && break
  sleep 1
done
if [ "$answer" != "OK" ]; then
  ask "$self" CLIENT UNPAUSE >/dev/null
  echo "kq-redis preStop: no Sentinel started a failover in $tries tries (last: ${answer:-no answer}); stopping anyway"
  exit 0
fi
if [ "$tries" -gt 1 ]; then
  echo "kq-redis preStop: a Sentinel started the failover on try $tries"
fi
while [ $(($(date +%s) - started)) -lt "$PRESTOP_TIMEOUT_S" ]; do
  now=$(named)
  if [ -n "$now" ] && [ "$now" != "$self" ]; then
    # What the Sentinels would do a few seconds later: this pod follows the new primary. Paused
    # writers now get READONLY, and their clients find the new primary through the Sentinels.
    ask "$self" REPLICAOF "${now%:*}" "${now##*:}" >/dev/null
    ask "$self" CLIENT UNPAUSE >/dev/null
    echo "kq-redis preStop: the Sentinels promoted $now; this pod is its replica"
    exit 0
  fi
  sleep 1
done
ask "$self" CLIENT UNPAUSE >/dev/null
echo "kq-redis preStop: no new primary within ${PRESTOP_TIMEOUT_S}s; stopping anyway"
exit 0
