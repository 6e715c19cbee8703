#!/usr/bin/env bash
# The local stack: one Apache Kafka KRaft node and FerretDB (SQLite backend) on 127.0.0.1.
#
#   stack.sh up       fetch/build what is missing, start both, wait until each answers
#   stack.sh down     SIGTERM, then SIGKILL after STOP_TIMEOUT seconds; WIPE=1 also deletes data
#   stack.sh status   state, port and version of each component
#
# Kafka is a private bus (issue 8): SASL/SCRAM-SHA-512 and ACLs. One user per principal of
# deploy/local/kafka/acls.conf plus `admin`; their passwords are generated once into
# <state>/secrets/kafka-<principal>.env (KAFKA_SECURITY_PROTOCOL, _SASL_MECHANISM, _SASL_USERNAME,
# _SASL_PASSWORD: the settings a client takes), readable by their owner only.
#
# The local SMS gateway (deploy/local/smsgateway.py, issue 10.6) runs beside them once `make
# install` made the .venv: SMSGATEWAY_PORT (KAFKA_PORT+3), its callbacks to SMSGATEWAY_CALLBACK (contact,
# http://127.0.0.1:8003), its access key generated once into <state>/secrets/smsgateway.env.
#
# Settings (env): KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (KAFKA_PORT+1), MONGODB_PORT (27017),
# KAFKA_HEAP (512m), KAFKA_ACL_PREFIXES ("demo. acltest.": topic prefixes granted besides the plain
# names), STACK_CACHE_DIR (<repo>/.cache, git-ignored: the jars and the FerretDB binary),
# STACK_STATE_DIR (<cache>/stack: data, logs, pid files, secrets).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
STACK_CACHE_DIR=${STACK_CACHE_DIR:-$REPO/.cache}
STACK_STATE_DIR=${STACK_STATE_DIR:-$STACK_CACHE_DIR/stack}
KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}
MONGODB_PORT=${MONGODB_PORT:-27017}
KAFKA_HEAP=${KAFKA_HEAP:-512m}
STOP_TIMEOUT=${STOP_TIMEOUT:-20}
READY_TIMEOUT=${READY_TIMEOUT:-90}
KAFKA_ACL_PREFIXES=${KAFKA_ACL_PREFIXES:-demo. acltest.}
SMSGATEWAY_PORT=${SMSGATEWAY_PORT:-$((KAFKA_PORT + 3))}
SMSGATEWAY_CALLBACK=${SMSGATEWAY_CALLBACK:-http://127.0.0.1:8003}

KAFKA_LIBS=$STACK_CACHE_DIR/kafka/libs
FERRETDB_BIN=$STACK_CACHE_DIR/bin/ferretdb
RUN_DIR=$STACK_STATE_DIR/run
LOG_DIR=$STACK_STATE_DIR/logs
DATA_DIR=$STACK_STATE_DIR/data
SECRETS_DIR=$STACK_STATE_DIR/secrets
ACL_SPEC=$HERE/kafka/acls.conf

say() { printf '%s\n' "$*"; }
die() { printf 'stack: %s\n' "$*" >&2; exit 1; }
now_ms() { date +%s%3N; }
fingerprint() { cat "$@" | sha256sum | cut -c1-16; }

# --- fetching and building ---------------------------------------------------------------

ensure_kafka() {
  local want
  want=$(fingerprint "$HERE/kafka/pom.xml")
  if [[ -f $KAFKA_LIBS/.fingerprint && $(cat "$KAFKA_LIBS/.fingerprint") == "$want" ]]; then
    return
  fi
  command -v mvn >/dev/null || die "Maven (mvn) is needed to fetch Kafka; install it (Debian: apt-get install maven)"
  command -v java >/dev/null || die "Java 17 is needed to run Kafka; install it (Debian: apt-get install openjdk-17-jre-headless)"
  say "kafka: resolving the broker jars with Maven (first time only)…"
  rm -rf "$KAFKA_LIBS" && mkdir -p "$KAFKA_LIBS"
  mkdir -p "$STACK_STATE_DIR/logs"
  mvn -q -B -Dstyle.color=never -f "$HERE/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$KAFKA_LIBS" >"$STACK_STATE_DIR/logs/maven.log" 2>&1 \
    || { cat "$STACK_STATE_DIR/logs/maven.log"; die "Maven could not resolve Kafka (see above)"; }
  echo "$want" >"$KAFKA_LIBS/.fingerprint"
}

ensure_ferretdb() {
  local want build src
  want=$(fingerprint "$HERE/ferretdb/main.go" "$HERE/ferretdb/go.mod" "$HERE/ferretdb/go.sum" "$HERE"/ferretdb/patches/*.patch)
  if [[ -x $FERRETDB_BIN && -f $FERRETDB_BIN.fingerprint && $(cat "$FERRETDB_BIN.fingerprint") == "$want" ]]; then
    return
  fi
  command -v go >/dev/null || die "Go is needed to build FerretDB; install it (Debian: apt-get install golang)"
  command -v patch >/dev/null || die "patch is needed to build FerretDB; install it (Debian: apt-get install patch)"
  say "ferretdb: building the embedded FerretDB with Go (first time only)…"
  # FerretDB's source from the module proxy, with our patches (see deploy/local/ferretdb/patches),
  # built through a replace directive in a generated go.mod: the checked-in module stays plain.
  build=$STACK_CACHE_DIR/ferretdb-build
  rm -rf "$build" && mkdir -p "$build"
  (cd "$HERE/ferretdb" && go mod download github.com/FerretDB/FerretDB) || die "Go could not download FerretDB"
  src=$(cd "$HERE/ferretdb" && go list -m -f '{{.Dir}}' github.com/FerretDB/FerretDB)
  cp -r "$src" "$build/FerretDB" && chmod -R u+w "$build/FerretDB"
  for p in "$HERE"/ferretdb/patches/*.patch; do
    patch -s -p1 -d "$build/FerretDB" <"$p" || die "patch $(basename "$p") does not apply"
  done
  cp "$HERE/ferretdb/go.mod" "$build/build.mod" && cp "$HERE/ferretdb/go.sum" "$build/build.sum"
  echo "replace github.com/FerretDB/FerretDB => $build/FerretDB" >>"$build/build.mod"
  mkdir -p "$(dirname "$FERRETDB_BIN")"
  (cd "$HERE/ferretdb" && go build -modfile="$build/build.mod" -trimpath -o "$FERRETDB_BIN" .) \
    || die "the FerretDB build failed (see the output above)"
  echo "$want" >"$FERRETDB_BIN.fingerprint"
}

kafka_version() { ls "$KAFKA_LIBS" 2>/dev/null | sed -n 's/^kafka_2\.13-\(.*\)\.jar$/\1/p' | head -1; }
ferretdb_version() { "$FERRETDB_BIN" -version 2>/dev/null || true; }

# --- processes ---------------------------------------------------------------------------

pid_of() { # prints the live pid of a component, removes a stale pid file
  local file=$RUN_DIR/$1.pid pid
  [[ -f $file ]] || return 1
  pid=$(cat "$file")
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    echo "$pid"
    return 0
  fi
  rm -f "$file"
  return 1
}

ready() { python3 "$HERE/probe.py" "$1" "$2" >/dev/null 2>&1; }

require_free_port() { # component port
  local owner
  owner=$(python3 "$HERE/probe.py" owner "$2")
  [[ -z $owner ]] || die "$1: port $2 is already in use by process $owner; stop it or choose another port (${1^^}_PORT)"
}

wait_ready() { # component probe port pid started_ms
  local deadline=$(($(date +%s) + READY_TIMEOUT))
  until ready "$2" "$3"; do
    kill -0 "$4" 2>/dev/null || die "$1 exited during start; see $LOG_DIR/$1.log"
    (($(date +%s) < deadline)) || die "$1 did not answer within ${READY_TIMEOUT}s; see $LOG_DIR/$1.log"
    sleep 0.3
  done
  say "$1: ready on 127.0.0.1:$3 in $(( ($(now_ms) - $5) ))ms"
}

# --- the private bus: users, their passwords, their ACLs ----------------------------------------

principals() { { echo admin; awk '!/^#/ && NF {print $1}' "$ACL_SPEC"; } | sort -u; }
password_of() { sed -n 's/^KAFKA_SASL_PASSWORD=//p' "$SECRETS_DIR/kafka-$1.env"; }

ensure_credentials() { # one password per principal, generated once, owner-only
  local name
  (umask 077 && mkdir -p "$SECRETS_DIR")
  for name in $(principals); do
    [[ -f $SECRETS_DIR/kafka-$name.env ]] && continue
    (umask 077 && printf '%s\n' KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT KAFKA_SASL_MECHANISM=SCRAM-SHA-512 \
      "KAFKA_SASL_USERNAME=$name" "KAFKA_SASL_PASSWORD=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')" \
      >"$SECRETS_DIR/kafka-$name.env")
  done
  (umask 077 && printf '%s\n' security.protocol=SASL_PLAINTEXT sasl.mechanism=SCRAM-SHA-512 \
    "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\" password=\"$(password_of admin)\";" \
    >"$SECRETS_DIR/kafka-admin.properties")
}

format_kafka() { # format once (formatting again would fail), with every principal's SCRAM user
  local users scram=() name
  users=$(fingerprint "$SECRETS_DIR"/kafka-*.env)
  if [[ -f $DATA_DIR/kafka/meta.properties && ! -f $DATA_DIR/kafka.users ]]; then
    # A data dir of the stack before the bus was private has no admin user to log in with.
    # (A principal added later is added on the running broker: add_new_users.)
    say "kafka: $DATA_DIR/kafka was formatted without SCRAM users (a stack from before SASL); formatting it again: the local topics and offsets are deleted"
    rm -rf "$DATA_DIR/kafka" "$DATA_DIR/kafka.users" && mkdir -p "$DATA_DIR/kafka"
  fi
  [[ -f $DATA_DIR/kafka/meta.properties ]] && return
  for name in $(principals); do scram+=(--add-scram "SCRAM-SHA-512=[name=$name,password=$(password_of "$name")]"); done
  java "${java_opts[@]}" -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format \
    -t "$(java -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null)" \
    -c "$RUN_DIR/server.properties" "${scram[@]}" >>"$LOG_DIR/kafka.log" 2>&1 \
    || die "formatting the Kafka storage failed; see $LOG_DIR/kafka.log"
  echo "$users" >"$DATA_DIR/kafka.users"
}

add_new_users() { # a principal added to acls.conf after the storage was formatted
  local users name
  users=$(fingerprint "$SECRETS_DIR"/kafka-*.env)
  [[ $(cat "$DATA_DIR/kafka.users" 2>/dev/null) == "$users" ]] && return
  for name in $(principals); do # setting a known user's password again changes nothing
    java -cp "$KAFKA_LIBS/*" org.apache.kafka.tools.ConfigCommand --bootstrap-server "127.0.0.1:$KAFKA_PORT" \
      --command-config "$SECRETS_DIR/kafka-admin.properties" --alter --entity-type users \
      --entity-name "$name" --add-config "SCRAM-SHA-512=[password=$(password_of "$name")]" \
      >>"$LOG_DIR/kafka-acls.log" 2>&1 || die "adding the Kafka user $name failed; see $LOG_DIR/kafka-acls.log"
  done
  echo "$users" >"$DATA_DIR/kafka.users"
  say "kafka: SCRAM users in place ($(principals | paste -sd, | sed 's/,/, /g'))"
}

grant_acls() { # acls.conf for the plain names and each prefix; idempotent, so on every start
  local deadline=$(($(date +%s) + READY_TIMEOUT)) count
  # shellcheck disable=SC2086 # the prefixes are a list
  until count=$(python3 "$HERE/kafka_acls.py" "$KAFKA_PORT" "$SECRETS_DIR/kafka-admin.env" "$ACL_SPEC" \
    $KAFKA_ACL_PREFIXES 2>>"$LOG_DIR/kafka-acls.log"); do
    (($(date +%s) < deadline)) || die "granting the Kafka ACLs failed; see $LOG_DIR/kafka-acls.log"
    sleep 0.5 # the broker answers before its authorizer has loaded the metadata
  done
  say "kafka: $count ACLs in place (deploy/local/kafka/acls.conf; prefixes: ${KAFKA_ACL_PREFIXES:-none})"
}

start_kafka() {
  local pid started
  if pid=$(pid_of kafka); then
    grep -q '^sasl.enabled.mechanisms=' "$RUN_DIR/server.properties" 2>/dev/null \
      || die "kafka: running (pid $pid) as started before the bus was private (no SASL); run \`make stack-down\` then \`make stack-up\`"
    say "kafka: already running (pid $pid) on 127.0.0.1:$KAFKA_PORT"
    ensure_credentials
    add_new_users
    grant_acls # an edited acls.conf takes effect without a restart (grants only add)
    return
  fi
  require_free_port kafka "$KAFKA_PORT"
  require_free_port kafka_controller "$KAFKA_CONTROLLER_PORT"
  started=$(now_ms)
  mkdir -p "$DATA_DIR/kafka" "$LOG_DIR" "$RUN_DIR"
  ensure_credentials
  (umask 077 && sed -e "s|@PORT@|$KAFKA_PORT|g" -e "s|@CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
    -e "s|@DATA_DIR@|$DATA_DIR/kafka|g" -e "s|@ADMIN_PASSWORD@|$(password_of admin)|g" \
    "$HERE/kafka/server.properties.template" >"$RUN_DIR/server.properties")
  chmod 600 "$RUN_DIR/server.properties" # it holds the admin password (older stacks wrote it 644)
  local java_opts=(-Xms"$KAFKA_HEAP" -Xmx"$KAFKA_HEAP" -XX:+UseG1GC -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$HERE/kafka/log4j2.properties" -Dkafka.logs.dir="$LOG_DIR/kafka")
  format_kafka
  chmod 700 "$DATA_DIR/kafka" # the metadata log holds the users' salted SCRAM credentials
  nohup java "${java_opts[@]}" -cp "$KAFKA_LIBS/*" kafka.Kafka "$RUN_DIR/server.properties" \
    >>"$LOG_DIR/kafka.log" 2>&1 &
  pid=$!
  echo "$pid" >"$RUN_DIR/kafka.pid"
  wait_ready kafka kafka "$KAFKA_PORT" "$pid" "$started"
  add_new_users
  grant_acls
}

start_ferretdb() {
  local pid started
  if pid=$(pid_of ferretdb); then say "ferretdb: already running (pid $pid) on 127.0.0.1:$MONGODB_PORT"; return; fi
  require_free_port mongodb "$MONGODB_PORT"
  started=$(now_ms)
  mkdir -p "$DATA_DIR/ferretdb" "$LOG_DIR" "$RUN_DIR"
  nohup "$FERRETDB_BIN" -listen-addr "127.0.0.1:$MONGODB_PORT" -sqlite-dir "$DATA_DIR/ferretdb" \
    >>"$LOG_DIR/ferretdb.log" 2>&1 &
  pid=$!
  echo "$pid" >"$RUN_DIR/ferretdb.pid"
  wait_ready ferretdb mongo "$MONGODB_PORT" "$pid" "$started"
}

start_smsgateway() {
  local pid started python=$REPO/.venv/bin/python env_file=$SECRETS_DIR/smsgateway.env
  if pid=$(pid_of smsgateway); then say "smsgateway: already running (pid $pid) on 127.0.0.1:$SMSGATEWAY_PORT"; return; fi
  if [[ ! -x $python ]]; then say "smsgateway: not started (no .venv yet: make install)"; return; fi
  if [[ -n $(python3 "$HERE/probe.py" owner "$SMSGATEWAY_PORT") ]]; then
    say "smsgateway: not started: port $SMSGATEWAY_PORT is in use (SMSGATEWAY_PORT)"; return
  fi
  mkdir -p "$SECRETS_DIR" "$DATA_DIR/smsgateway" "$LOG_DIR" "$RUN_DIR"
  if [[ ! -f $env_file ]]; then
    (umask 077; printf 'SMSGATEWAY_ACCESS_KEY_ID=local-%s\nSMSGATEWAY_ACCESS_KEY_SECRET=%s\n' \
      "$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
      "$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$env_file")
  fi
  started=$(now_ms)
  (set -a; . "$env_file"; set +a; cd "$REPO" && exec nohup "$python" -m deploy.local.smsgateway \
    --port "$SMSGATEWAY_PORT" --callback "$SMSGATEWAY_CALLBACK" --issuer-dir "$STACK_CACHE_DIR/auth" \
    --store "$DATA_DIR/smsgateway/messages.jsonl" >>"$LOG_DIR/smsgateway.log" 2>&1) &
  pid=$!
  echo "$pid" >"$RUN_DIR/smsgateway.pid"
  wait_ready smsgateway http "$SMSGATEWAY_PORT" "$pid" "$started"
}

stop_component() {
  local pid waited=0
  if ! pid=$(pid_of "$1"); then say "$1: not running"; return; fi
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if ((waited >= STOP_TIMEOUT * 10)); then
      say "$1: still running after ${STOP_TIMEOUT}s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  rm -f "$RUN_DIR/$1.pid"
  say "$1: stopped"
}

status_line() { # component probe port version
  local pid state
  if pid=$(pid_of "$1"); then
    if ready "$2" "$3"; then state="running (pid $pid), ready"; else state="running (pid $pid), not answering"; fi
  else
    state="stopped"
  fi
  printf '%-9s %-32s 127.0.0.1:%-6s %s\n' "$1" "$state" "$3" "$4"
}

case "${1:-}" in
up)
  started=$(now_ms)
  ensure_kafka
  ensure_ferretdb
  start_kafka
  start_ferretdb
  start_smsgateway
  say "stack: ready in $(( ($(now_ms) - started) ))ms — KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$KAFKA_PORT MONGODB_URL=mongodb://127.0.0.1:$MONGODB_PORT/"
  say "       Kafka credentials (SASL/SCRAM-SHA-512): $SECRETS_DIR/kafka-<principal>.env (admin, $(principals | grep -vx admin | paste -sd, | sed 's/,/, /g'))"
  ;;
down)
  stop_component smsgateway
  stop_component kafka
  stop_component ferretdb
  # WIPE keeps the secrets: the next `up` formats a new data dir with the same users.
  if [[ ${WIPE:-0} == 1 ]]; then rm -rf "$DATA_DIR" "$LOG_DIR"; say "stack: data and logs deleted"; fi
  ;;
status)
  status_line kafka kafka "$KAFKA_PORT" "Apache Kafka $(kafka_version)"
  status_line ferretdb mongo "$MONGODB_PORT" "$(ferretdb_version)"
  status_line smsgateway http "$SMSGATEWAY_PORT" "local SMS gateway (Alibaba Cloud SMS API)"
  ;;
*)
  die "usage: stack.sh up|down|status"
  ;;
esac
