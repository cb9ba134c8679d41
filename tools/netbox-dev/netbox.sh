#!/usr/bin/env bash
# netbox.sh: a real NetBox on loopback for tests (see README.md next to this file).
#
#   bash tools/netbox-dev/netbox.sh up       install (once), start, wait for /api/status/, write .netbox/env
#   bash tools/netbox-dev/netbox.sh down     stop the web server, the RQ worker, our Redis (and PostgreSQL if we started it)
#   bash tools/netbox-dev/netbox.sh reset    restore the database to its freshly migrated state (same tokens)
#   bash tools/netbox-dev/netbox.sh status   print what runs; exit 1 if NetBox does not answer
#   bash tools/netbox-dev/netbox.sh env      print the export lines of .netbox/env
#   bash tools/netbox-dev/netbox.sh seed     write seed/netbox-<versions>.sql.gz from the migrated database
#
# Versions come from tools/versions.env. Everything lives under .netbox/ in the repository root
# (override with NETBOX_DEV_DIR); every step logs to .netbox/logs/<step>.log.
# Settings (environment): NETBOX_PORT (8080), NETBOX_REDIS_PORT (6380), NETBOX_WEB_WORKERS (4),
# NETBOX_WEB_THREADS (4), NETBOX_PG_CLUSTER (e.g. 15/main; default: the first of pg_lsclusters).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
# shellcheck source=../versions.env
source "$REPO_ROOT/tools/versions.env"
: "${NETBOX_VERSION:?NETBOX_VERSION missing from tools/versions.env}"
: "${PYTHON_VERSION:=3.12}"
: "${PROXBOX_PLUGIN_VERSION:=}"

NB_DIR="${NETBOX_DEV_DIR:-$REPO_ROOT/.netbox}"
LOG_DIR="$NB_DIR/logs"
RUN_DIR="$NB_DIR/run"
STATE_DIR="$NB_DIR/state"
VENV="$NB_DIR/venv"
SECRETS="$NB_DIR/secrets.env"
ENV_FILE="$NB_DIR/env"
export NETBOX_ROOT="$NB_DIR/root"

PORT="${NETBOX_PORT:-8080}"
REDIS_PORT="${NETBOX_REDIS_PORT:-6380}"
WEB_WORKERS="${NETBOX_WEB_WORKERS:-4}"
WEB_THREADS="${NETBOX_WEB_THREADS:-4}"
URL="http://127.0.0.1:$PORT"
DB_NAME="${NETBOX_DB_NAME:-proxbox_netbox}"
DB_USER="${NETBOX_DB_USER:-$DB_NAME}"
DB_TEMPLATE="${DB_NAME}_tmpl"
ADMIN_USER=admin
WAIT_SECONDS="${NETBOX_WAIT_SECONDS:-240}"

# What is installed and migrated; a change re-runs the install, migrate and snapshot steps.
STAMP="netbox=$NETBOX_VERSION plugin=${PROXBOX_PLUGIN_VERSION:-none} python=$PYTHON_VERSION"

mkdir -p "$LOG_DIR" "$RUN_DIR" "$STATE_DIR"
chmod 700 "$NB_DIR"

# ---------------------------------------------------------------------------------------------
# step runner: runs "$@" in a subshell with errexit, output appended to logs/<name>.log; on
# failure names the step and prints the log tail.

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

step() {
  local name="$1"
  shift
  local log="$LOG_DIR/$name.log" t0 rc
  t0="$(now)"
  printf '==> %-12s ' "$name"
  printf '\n### %s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$log"
  set +e
  (
    set -euo pipefail
    "$@"
  ) >>"$log" 2>&1 </dev/null
  rc=$?
  set -e
  if [ "$rc" -ne 0 ]; then
    echo "FAILED"
    {
      echo
      echo "netbox.sh: step '$name' failed (exit $rc). Last lines of $log:"
      tail -n 40 "$log" | sed 's/^/    /'
    } >&2
    exit 1
  fi
  echo "ok ($(elapsed "$t0")s)"
}

die() {
  echo "netbox.sh: $*" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------------
# helpers

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && sudo -n -u postgres -- "$@")
  fi
}

psql_admin() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" "$@"; }

find_python() {
  local root cand
  root="${PYENV_ROOT:-$HOME/.pyenv}"
  if command -v pyenv >/dev/null 2>&1; then root="$(pyenv root 2>/dev/null || echo "$root")"; fi
  # newest pyenv $PYTHON_VERSION.x first
  cand="$(ls -d "$root"/versions/"$PYTHON_VERSION".*/bin/python 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -n "$cand" ] && [ -x "$cand" ]; then
    echo "$cand"
    return 0
  fi
  for cand in "python$PYTHON_VERSION" python3.12 python3.13 python3.14; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      command -v "$cand"
      return 0
    fi
  done
  return 1
}

# pid_alive NAME: true when run/NAME.pid names a live process.
pid_alive() {
  local f="$RUN_DIR/$1.pid" pid
  [ -s "$f" ] || return 1
  pid="$(cat "$f")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_daemon NAME LOG CMD...: start CMD in its own session, record its pid in run/NAME.pid.
start_daemon() {
  local name="$1" log="$2"
  shift 2
  setsid "$@" >>"$log" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/$name.pid"
}

# stop_daemon NAME: TERM, wait up to 30 s, then KILL.
stop_daemon() {
  local name="$1" pid i
  if ! pid_alive "$name"; then
    rm -f "$RUN_DIR/$name.pid"
    return 0
  fi
  pid="$(cat "$RUN_DIR/$name.pid")"
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "$name (pid $pid) did not stop in 30 s; sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$RUN_DIR/$name.pid"
  echo "stopped $name (pid $pid)"
}

# http_get PATH TOKEN: print "<status> <body>" of GET URL/PATH using the venv's Python.
http_get() {
  NB_URL="$URL$1" NB_AUTH="$2" "$VENV/bin/python" - <<'PY'
import os, urllib.request, urllib.error
req = urllib.request.Request(os.environ["NB_URL"], headers={
    "Accept": "application/json", "Authorization": os.environ["NB_AUTH"]})
try:
    with urllib.request.urlopen(req, timeout=20) as r:
        print(r.status, r.read().decode("utf-8", "replace"))
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode("utf-8", "replace")[:300])
except Exception as e:
    print(0, type(e).__name__, e)
PY
}

load_secrets() {
  [ -s "$SECRETS" ] || die "no $SECRETS: run 'netbox.sh up' first"
  # shellcheck disable=SC1090
  source "$SECRETS"
}

pg_cluster() {
  # sets PG_VER PG_NAME PG_PORT PG_STATUS from pg_lsclusters
  local line want="${NETBOX_PG_CLUSTER:-}"
  if [ -n "$want" ]; then
    line="$(pg_lsclusters --no-header | awk -v v="${want%/*}" -v n="${want#*/}" '$1 == v && $2 == n' | head -n 1)"
  else
    line="$(pg_lsclusters --no-header | sort -k1,1Vr | head -n 1)"
  fi
  [ -n "$line" ] || return 1
  read -r PG_VER PG_NAME PG_PORT PG_STATUS _ <<<"$line"
}

# ---------------------------------------------------------------------------------------------
# steps (each runs in a subshell; state is kept in files)

step_packages() {
  local need=()
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
  if ! command -v pg_lsclusters >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    need+=(postgresql)
  fi
  if [ "${#need[@]}" -eq 0 ]; then
    echo "redis-server and postgresql present"
    return 0
  fi
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -q
  as_root apt-get install -y -q --no-install-recommends "${need[@]}"
}

step_secrets() {
  if [ -s "$SECRETS" ]; then
    echo "keeping $SECRETS"
    return 0
  fi
  local py
  py="$(find_python)" || { echo "no Python >= 3.12 (pyenv $PYTHON_VERSION.x, python3.12, python3.13)"; return 1; }
  umask 077
  "$py" - >"$SECRETS.tmp" <<'PY'
import secrets, string
alnum = string.ascii_letters + string.digits
def r(n, cs=alnum):
    return "".join(secrets.choice(cs) for _ in range(n))
print("NB_SECRET_KEY=" + r(64))
print("NB_PEPPER=" + r(64))
print("NB_DB_PASSWORD=" + r(32))
print("NB_ADMIN_PASSWORD=" + r(24))
print("NB_TOKEN_V1=" + secrets.token_hex(20))
print("NB_TOKEN_V2_KEY=" + r(12))
print("NB_TOKEN_V2_SECRET=" + r(40))
PY
  mv "$SECRETS.tmp" "$SECRETS"
  echo "generated $SECRETS"
}

step_postgres() {
  if ! pg_cluster; then
    local ver
    ver="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
    echo "no PostgreSQL cluster; creating $ver/main"
    as_root pg_createcluster "$ver" main
    pg_cluster
  fi
  echo "cluster $PG_VER/$PG_NAME port $PG_PORT status $PG_STATUS"
  if [ "$PG_STATUS" != online ]; then
    as_root pg_ctlcluster "$PG_VER" "$PG_NAME" start
    echo "$PG_VER/$PG_NAME" >"$STATE_DIR/pg-started-by-us"
  fi
  local i
  for i in $(seq 1 60); do
    pg_isready -q -h 127.0.0.1 -p "$PG_PORT" && break
    sleep 0.5
  done
  pg_isready -h 127.0.0.1 -p "$PG_PORT"
  echo "$PG_PORT" >"$STATE_DIR/pg-port"
}

step_database() {
  load_secrets
  PG_PORT="$(cat "$STATE_DIR/pg-port")"
  # role: create or reset its password to ours (idempotent)
  psql_admin -d postgres -v u="$DB_USER" -v p="$NB_DB_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'u', :'p')
  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'u') \gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'u', :'p') \gexec
SQL
  if [ "$(psql_admin -d postgres -tA -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" != 1 ]; then
    psql_admin -d postgres -c "CREATE DATABASE $DB_NAME OWNER $DB_USER ENCODING 'UTF8' TEMPLATE template0"
    rm -f "$STATE_DIR/bootstrapped"
    echo "created database $DB_NAME"
  else
    echo "database $DB_NAME exists"
  fi
}

step_redis() {
  if pid_alive redis; then
    echo "redis already running (pid $(cat "$RUN_DIR/redis.pid"))"
    return 0
  fi
  if port_open "$REDIS_PORT"; then
    echo "port 127.0.0.1:$REDIS_PORT is in use by a process that is not ours; set NETBOX_REDIS_PORT"
    return 1
  fi
  mkdir -p "$NB_DIR/redis"
  start_daemon redis "$LOG_DIR/redis-server.log" redis-server \
    --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$NB_DIR/redis" \
    --save "" --appendonly no --daemonize no
  local i
  for i in $(seq 1 40); do
    redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break
    sleep 0.25
  done
  redis-cli -p "$REDIS_PORT" ping | grep -q PONG || { tail -n 20 "$LOG_DIR/redis-server.log"; return 1; }
  echo "redis started on 127.0.0.1:$REDIS_PORT (pid $(cat "$RUN_DIR/redis.pid"))"
}

step_venv() {
  if [ -x "$VENV/bin/python" ] && [ "$(cat "$STATE_DIR/installed" 2>/dev/null)" = "$STAMP" ]; then
    echo "venv up to date ($STAMP)"
    return 0
  fi
  local py
  py="$(find_python)" || { echo "no Python >= 3.12 (pyenv $PYTHON_VERSION.x, python3.12, python3.13)"; return 1; }
  echo "python: $py ($("$py" -V 2>&1))"
  # new code: stop processes running the old one
  stop_daemon web
  stop_daemon worker
  [ -x "$VENV/bin/python" ] || "$py" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  local pkgs=("netbox==$NETBOX_VERSION" gunicorn)
  [ -n "$PROXBOX_PLUGIN_VERSION" ] && pkgs+=("netbox-proxbox==$PROXBOX_PLUGIN_VERSION")
  "$VENV/bin/python" -m pip install --prefer-binary "${pkgs[@]}"
  "$VENV/bin/python" -m pip check
  [ "$("$VENV/bin/netbox" version)" = "$NETBOX_VERSION" ]
  echo "$STAMP" >"$STATE_DIR/installed"
}

step_config() {
  load_secrets
  PG_PORT="$(cat "$STATE_DIR/pg-port")"
  local plugins="[]" plugins_config="{}"
  if [ -n "$PROXBOX_PLUGIN_VERSION" ]; then
    plugins="['netbox_proxbox']"
    # no background pushes to a proxbox backend from the test NetBox
    plugins_config="{'netbox_proxbox': {'automatic_background_tasks': False}}"
  fi
  mkdir -p "$NETBOX_ROOT/conf" "$NETBOX_ROOT/media" "$NETBOX_ROOT/scripts" "$NETBOX_ROOT/reports"
  : >"$NETBOX_ROOT/conf/__init__.py"
  umask 077
  cat >"$NETBOX_ROOT/conf/configuration.py.tmp" <<EOF
# Generated by tools/netbox-dev/netbox.sh; rewritten on every 'up'. Test NetBox on loopback only.
import os

ALLOWED_HOSTS = ['*']
CSRF_TRUSTED_ORIGINS = ['http://127.0.0.1:$PORT', 'http://localhost:$PORT']
DATABASES = {
    'default': {
        'ENGINE': 'django.db.backends.postgresql',
        # NETBOX_DEV_DB: step_snapshot migrates a second database when this one holds data
        'NAME': os.environ.get('NETBOX_DEV_DB') or '$DB_NAME',
        'USER': '$DB_USER',
        'PASSWORD': '$NB_DB_PASSWORD',
        'HOST': '127.0.0.1',
        'PORT': '$PG_PORT',
        'CONN_MAX_AGE': 300,
        'CONN_HEALTH_CHECKS': True,
    }
}
REDIS = {
    'tasks': {'HOST': '127.0.0.1', 'PORT': $REDIS_PORT, 'USERNAME': '', 'PASSWORD': '', 'DATABASE': 0, 'SSL': False},
    'caching': {'HOST': '127.0.0.1', 'PORT': $REDIS_PORT, 'USERNAME': '', 'PASSWORD': '', 'DATABASE': 1, 'SSL': False},
}
SECRET_KEY = '$NB_SECRET_KEY'
API_TOKEN_PEPPERS = {1: '$NB_PEPPER'}
PLUGINS = $plugins
PLUGINS_CONFIG = $plugins_config
# no calls to the outside world from a test instance
ISOLATED_DEPLOYMENT = True
CENSUS_REPORTING_ENABLED = False
DEBUG = False
TIME_ZONE = 'UTC'
MAX_PAGE_SIZE = 1000
EOF
  mv "$NETBOX_ROOT/conf/configuration.py.tmp" "$NETBOX_ROOT/conf/configuration.py"
  echo "wrote $NETBOX_ROOT/conf/configuration.py"
}

step_migrate() {
  PG_PORT="$(cat "$STATE_DIR/pg-port")"
  if [ "$(db_stamp "$DB_NAME")" = "$STAMP" ]; then
    echo "already migrated ($STAMP)"
    return 0
  fi
  local seed
  seed="$(seed_file)"
  if [ -z "${NETBOX_NO_SEED:-}" ] && [ -s "$seed" ] && [ "$(db_table_count "$DB_NAME")" = 0 ]; then
    # A fresh database and a committed seed of the same versions: restore it instead of replaying
    # ~430 migrations (the plugin's re-render the whole model state per field: ~25 CPU-minutes).
    echo "restoring the migrated schema from $(basename "$seed")"
    load_secrets
    gzip -dc "$seed" | PGPASSWORD="$NB_DB_PASSWORD" psql -X -q -v ON_ERROR_STOP=1 \
      -h 127.0.0.1 -p "$PG_PORT" -U "$DB_USER" -d "$DB_NAME" >/dev/null
  fi
  # After a seed restore this is a check that finds nothing to apply; otherwise the real migrate.
  "$VENV/bin/netbox" migrate --no-input
  set_db_stamp "$DB_NAME"
  rm -f "$STATE_DIR/bootstrapped"
}

# seed_file: the committed, gzipped pg_dump of a freshly migrated database for the pinned versions.
seed_file() {
  echo "$SCRIPT_DIR/seed/netbox-$NETBOX_VERSION-proxbox-${PROXBOX_PLUGIN_VERSION:-none}.sql.gz"
}

# db_table_count DB: how many tables the public schema of DB has.
db_table_count() {
  psql_admin -d "$1" -tA -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
}

# cmd_seed: write the seed file from the migrated template database (make netbox-seed). User data
# (the admin user, tokens, sessions) is left out, so the file holds no secret.
cmd_seed() {
  [ -s "$STATE_DIR/pg-port" ] || die "run 'netbox.sh up' first"
  PG_PORT="$(cat "$STATE_DIR/pg-port")"
  [ "$(db_stamp "$DB_TEMPLATE")" = "$STAMP" ] || die "no migrated template for $STAMP: run 'netbox.sh up' first"
  local seed
  seed="$(seed_file)"
  mkdir -p "$(dirname "$seed")"
  as_postgres pg_dump -p "$PG_PORT" --no-owner --no-privileges --no-comments \
    --exclude-table-data=users_token --exclude-table-data=users_user \
    --exclude-table-data=users_userconfig --exclude-table-data=django_session \
    --exclude-table-data=users_user_groups --exclude-table-data=users_user_user_permissions \
    --exclude-table-data=users_owner_user_groups --exclude-table-data=users_owner_users \
    "$DB_TEMPLATE" | grep -v '^-- Dumped \|^SELECT pg_catalog.set_config' | gzip -n -9 >"$seed.tmp"
  mv "$seed.tmp" "$seed"
  echo "wrote $seed ($(du -h "$seed" | cut -f1))"
}

# step_bootstrap runs every time (about 5 s): a stamp file cannot tell whether the tokens are still
# in the database, and a test or a manual reset may have removed them. The script is idempotent.
step_bootstrap() {
  load_secrets
  export NB_ADMIN_USER="$ADMIN_USER" NB_ADMIN_PASSWORD NB_TOKEN_V1 NB_TOKEN_V2_KEY NB_TOKEN_V2_SECRET
  "$VENV/bin/netbox" shell -c "$(cat <<'PY'
import os
from users.models import Token, User

env = os.environ
u, _ = User.objects.get_or_create(username=env['NB_ADMIN_USER'])
u.is_superuser = True
u.is_active = True
u.set_password(env['NB_ADMIN_PASSWORD'])
u.save()

desc1, desc2 = 'proxbox-dev v1', 'proxbox-dev v2'

def retire(tokens):
    # Tokens of another checkout's secrets (the database outlives a clone). Disabled, not deleted:
    # plugin objects (a NetBoxEndpoint) may refer to them through protected foreign keys.
    tokens.filter(enabled=True).update(enabled=False, description='proxbox-dev retired')

v1 = Token.objects.filter(version=1, plaintext=env['NB_TOKEN_V1']).first()
if v1 is None:
    retire(Token.objects.filter(user=u, description=desc1))
    v1 = Token(user=u, version=1, token=env['NB_TOKEN_V1'], description=desc1, write_enabled=True)
    v1.full_clean()
    v1.save()
    print('created v1 token')
v2 = Token.objects.filter(version=2, key=env['NB_TOKEN_V2_KEY']).first()
if v2 is not None and not v2.validate(env['NB_TOKEN_V2_SECRET']):
    retire(Token.objects.filter(pk=v2.pk))
    v2 = None
if v2 is None:
    retire(Token.objects.filter(user=u, description=desc2))
    v2 = Token(user=u, version=2, key=env['NB_TOKEN_V2_KEY'], token=env['NB_TOKEN_V2_SECRET'],
               description=desc2, write_enabled=True)
    v2.full_clean()
    v2.save()
    print('created v2 token')
print('admin user', u.username, 'tokens ok')
PY
)"
  echo "$STAMP" >"$STATE_DIR/bootstrapped"
}

# snapshot the migrated, bootstrapped database as a template so that 'reset' is a fast copy.
# The template must hold no objects: 'reset' (and so every 'make e2e') starts from it. The stamp on
# the template, not a file under .netbox/, says whether it is current: PostgreSQL outlives a clone,
# and a fresh clone on a machine whose database already holds test data must not snapshot that.
step_snapshot() {
  PG_PORT="$(cat "$STATE_DIR/pg-port")"
  local rows
  if [ "$(db_stamp "$DB_TEMPLATE")" = "$STAMP" ]; then
    rows="$(db_object_rows "$DB_TEMPLATE")"
    if [ "$rows" = 0 ]; then
      echo "template $DB_TEMPLATE up to date and empty"
      return 0
    fi
    echo "template $DB_TEMPLATE holds $rows objects; making it again"
  fi
  stop_daemon web
  stop_daemon worker
  terminate_db_connections "$DB_TEMPLATE"
  psql_admin -d postgres -c "DROP DATABASE IF EXISTS $DB_TEMPLATE"
  rows="$(db_object_rows "$DB_NAME")"
  if [ "$rows" = 0 ]; then
    terminate_db_connections "$DB_NAME"
    psql_admin -d postgres -c "CREATE DATABASE $DB_TEMPLATE OWNER $DB_USER TEMPLATE $DB_NAME"
    echo "saved $DB_NAME as $DB_TEMPLATE"
  else
    # DB_NAME holds data (kept: 'up' never deletes it). Migrate an empty database instead; slow
    # (the whole migration history) but needed once per machine and version.
    local build="${DB_NAME}_build"
    echo "$DB_NAME holds $rows objects; migrating an empty $build for the template"
    terminate_db_connections "$build"
    psql_admin -d postgres -c "DROP DATABASE IF EXISTS $build"
    psql_admin -d postgres -c "CREATE DATABASE $build OWNER $DB_USER ENCODING 'UTF8' TEMPLATE template0"
    NETBOX_DEV_DB="$build" "$VENV/bin/netbox" migrate --no-input
    terminate_db_connections "$build"
    psql_admin -d postgres -c "ALTER DATABASE $build RENAME TO $DB_TEMPLATE"
    echo "migrated $build and saved it as $DB_TEMPLATE"
  fi
  set_db_stamp "$DB_TEMPLATE"
}

# db_object_rows DB: how many objects DB holds in the tables every sync writes and every user
# creates (sites, devices, clusters, VMs, IPs, tags, the changelog). 0 for a freshly migrated
# database: migrations only add content types, permissions, a few roles and custom fields.
db_object_rows() {
  psql_admin -d "$1" -tA -c "SELECT (SELECT count(*) FROM dcim_site) + (SELECT count(*) FROM dcim_device)
    + (SELECT count(*) FROM virtualization_cluster) + (SELECT count(*) FROM virtualization_virtualmachine)
    + (SELECT count(*) FROM ipam_ipaddress) + (SELECT count(*) FROM extras_tag)
    + (SELECT count(*) FROM core_objectchange)"
}

# db_stamp DB: the comment on database DB ("" if none or no such database). The comment records
# which versions were migrated into it, so that it survives a fresh clone (new .netbox/).
db_stamp() {
  psql_admin -d postgres -tA -c "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = '$1'"
}

set_db_stamp() {
  psql_admin -d postgres -c "COMMENT ON DATABASE $1 IS '$STAMP'"
}

terminate_db_connections() {
  psql_admin -d postgres -tA -c \
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$1' AND pid <> pg_backend_pid()"
}

step_web() {
  if pid_alive web; then
    echo "web server already running (pid $(cat "$RUN_DIR/web.pid"))"
    return 0
  fi
  if port_open "$PORT"; then
    echo "port 127.0.0.1:$PORT is in use by a process that is not ours; stop it or set NETBOX_PORT"
    return 1
  fi
  start_daemon web "$LOG_DIR/web-server.log" "$VENV/bin/gunicorn" \
    --chdir "$NB_DIR" --bind "127.0.0.1:$PORT" \
    --workers "$WEB_WORKERS" --threads "$WEB_THREADS" --timeout 300 \
    --max-requests 5000 --max-requests-jitter 500 \
    --error-logfile - --log-level info netbox.wsgi
  sleep 1
  pid_alive web || { tail -n 40 "$LOG_DIR/web-server.log"; return 1; }
  echo "gunicorn started on $URL (pid $(cat "$RUN_DIR/web.pid"), $WEB_WORKERS workers x $WEB_THREADS threads)"
}

step_worker() {
  if pid_alive worker; then
    echo "RQ worker already running (pid $(cat "$RUN_DIR/worker.pid"))"
    return 0
  fi
  start_daemon worker "$LOG_DIR/rq-worker.log" "$VENV/bin/netbox" rqworker
  sleep 1
  pid_alive worker || { tail -n 40 "$LOG_DIR/rq-worker.log"; return 1; }
  echo "RQ worker started (pid $(cat "$RUN_DIR/worker.pid"))"
}

step_wait() {
  load_secrets
  local deadline=$((SECONDS + WAIT_SECONDS)) out=""
  while [ "$SECONDS" -lt "$deadline" ]; do
    if ! pid_alive web; then
      echo "web server died; last lines of $LOG_DIR/web-server.log:"
      tail -n 40 "$LOG_DIR/web-server.log"
      return 1
    fi
    out="$(http_get /api/status/ "Token $NB_TOKEN_V1")"
    case "$out" in
    200\ *) break ;;
    esac
    sleep 1
  done
  case "$out" in
  200\ *) ;;
  *)
    echo "no answer from $URL/api/status/ within ${WAIT_SECONDS}s: $out"
    tail -n 40 "$LOG_DIR/web-server.log"
    return 1
    ;;
  esac
  echo "v1 token: ${out:0:300}"
  case "$out" in
  *"\"netbox-version\":\"$NETBOX_VERSION\""* | *"\"netbox-version\": \"$NETBOX_VERSION\""*) ;;
  *) echo "unexpected NetBox version in /api/status/"; return 1 ;;
  esac
  out="$(http_get /api/status/ "Bearer nbt_$NB_TOKEN_V2_KEY.$NB_TOKEN_V2_SECRET")"
  case "$out" in
  200\ *) echo "v2 token accepted" ;;
  *) echo "v2 token rejected: $out"; return 1 ;;
  esac
  pid_alive worker || { echo "RQ worker died"; tail -n 40 "$LOG_DIR/rq-worker.log"; return 1; }
}

write_env() {
  load_secrets
  umask 077
  cat >"$ENV_FILE.tmp" <<EOF
export NETBOX_URL=$URL
export NETBOX_TOKEN=$NB_TOKEN_V1
export NETBOX_TOKEN_V2=nbt_$NB_TOKEN_V2_KEY.$NB_TOKEN_V2_SECRET
export NETBOX_VERSION=$NETBOX_VERSION
export NETBOX_PROXBOX_PLUGIN_VERSION=$PROXBOX_PLUGIN_VERSION
EOF
  mv "$ENV_FILE.tmp" "$ENV_FILE"
}

# ---------------------------------------------------------------------------------------------
# commands

cmd_up() {
  local t0
  t0="$(now)"
  step packages step_packages
  step secrets step_secrets
  step postgres step_postgres
  step database step_database
  step redis step_redis
  step venv step_venv
  step config step_config
  step migrate step_migrate
  step bootstrap step_bootstrap
  step snapshot step_snapshot
  step web step_web
  step worker step_worker
  step wait step_wait
  write_env
  echo "NetBox $NETBOX_VERSION is up at $URL (plugin: ${PROXBOX_PLUGIN_VERSION:-none}) in $(elapsed "$t0")s"
  echo "  source $ENV_FILE    # NETBOX_URL, NETBOX_TOKEN (v1), NETBOX_TOKEN_V2, NETBOX_VERSION"
}

step_stop() {
  stop_daemon web
  stop_daemon worker
  stop_daemon redis
  if [ -s "$STATE_DIR/pg-started-by-us" ]; then
    local c
    c="$(cat "$STATE_DIR/pg-started-by-us")"
    as_root pg_ctlcluster "${c%/*}" "${c#*/}" stop || true
    rm -f "$STATE_DIR/pg-started-by-us"
    echo "stopped PostgreSQL $c"
  fi
}

cmd_down() {
  step down step_stop
  echo "NetBox stopped"
}

step_restore() {
  PG_PORT="$(cat "$STATE_DIR/pg-port")"
  stop_daemon web
  stop_daemon worker
  terminate_db_connections "$DB_NAME"
  psql_admin -d postgres -c "DROP DATABASE IF EXISTS $DB_NAME"
  # the template may hold the tokens of another checkout: bootstrap again (idempotent)
  rm -f "$STATE_DIR/bootstrapped"
  if [ "$(db_stamp "$DB_TEMPLATE")" = "$STAMP" ] && [ "$(db_object_rows "$DB_TEMPLATE")" = 0 ]; then
    terminate_db_connections "$DB_TEMPLATE"
    psql_admin -d postgres -c "CREATE DATABASE $DB_NAME OWNER $DB_USER TEMPLATE $DB_TEMPLATE"
    set_db_stamp "$DB_NAME"
    echo "restored $DB_NAME from $DB_TEMPLATE"
  else
    echo "no empty template for $STAMP; $DB_NAME will be created and migrated again"
  fi
  if pid_alive redis; then redis-cli -p "$REDIS_PORT" flushall; fi
}

cmd_reset() {
  [ -s "$STATE_DIR/pg-port" ] || die "nothing to reset: run 'netbox.sh up' first"
  local t0
  t0="$(now)"
  step postgres step_postgres
  step restore step_restore
  echo "database reset in $(elapsed "$t0")s; starting again"
  cmd_up
}

cmd_status() {
  local name rc=0
  for name in web worker redis; do
    if pid_alive "$name"; then
      echo "$name: running (pid $(cat "$RUN_DIR/$name.pid"))"
    else
      echo "$name: stopped"
      rc=1
    fi
  done
  if [ -s "$SECRETS" ] && [ -x "$VENV/bin/python" ]; then
    load_secrets
    local out
    out="$(http_get /api/status/ "Token $NB_TOKEN_V1")"
    case "$out" in
    200\ *) echo "api: $URL/api/status/ -> ${out:4:200}" ;;
    *) echo "api: $URL/api/status/ not answering: ${out:0:200}"; rc=1 ;;
    esac
  else
    echo "api: not installed"
    rc=1
  fi
  [ -s "$ENV_FILE" ] && echo "env: source $ENV_FILE"
  return "$rc"
}

cmd_env() {
  [ -s "$ENV_FILE" ] || die "no $ENV_FILE: run 'netbox.sh up' first"
  cat "$ENV_FILE"
}

case "${1:-}" in
up) cmd_up ;;
down) cmd_down ;;
reset) cmd_reset ;;
status) cmd_status ;;
env) cmd_env ;;
seed) cmd_seed ;;
*)
  echo "usage: $0 up|down|reset|status|env|seed" >&2
  exit 2
  ;;
esac
