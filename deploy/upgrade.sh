#!/bin/sh
# Upgrades jobrank to a new binary, and rolls back when the new one is unhealthy.
#
# Usage: sudo sh upgrade.sh [--root DIR] NEW_BINARY
#
# Steps: check the new binary runs; take an online backup with the running
# version; keep the current binary as /usr/local/bin/jobrank.previous; stop the
# service; put the new binary in place; `jobrank migrate` (which backs the store up
# again before changing its schema); start; poll /readyz. If migrating fails or the
# service is not ready within JOBRANK_HEALTH_TIMEOUT seconds (default 30), put the
# previous binary back, restore the pre-upgrade backup when the old binary cannot
# open the migrated store, start it again, and exit 1.
#
# Replaceable through the environment (tests do): JOBRANK_SYSTEMCTL (systemctl),
# JOBRANK_CURL (curl), JOBRANK_RUNAS (runuser -u jobrank --; empty runs directly),
# JOBRANK_HEALTH_URL (http://JOBRANK_BIND/readyz from the settings file),
# JOBRANK_HEALTH_TIMEOUT (30).
set -eu

root=/
new=

die() {
    echo "upgrade.sh: $*" >&2
    exit 1
}

while [ $# -gt 0 ]; do
    case "$1" in
    --root) [ $# -ge 2 ] || die "--root needs a directory"; root=$2; shift 2 ;;
    -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [ -z "$new" ] || die "only one new binary, please"; new=$1; shift ;;
    esac
done
[ -n "$new" ] || die "usage: upgrade.sh [--root DIR] NEW_BINARY"

systemctl=${JOBRANK_SYSTEMCTL:-systemctl}
curl=${JOBRANK_CURL:-curl}
runas=${JOBRANK_RUNAS-runuser -u jobrank --}
timeout=${JOBRANK_HEALTH_TIMEOUT:-30}

[ -d "$root" ] || die "--root $root is not a directory"
root=$(cd "$root" && pwd)
if [ "$root" = / ]; then r=; else r=$root; fi
bin=$r/usr/local/bin/jobrank
prev=$r/usr/local/bin/jobrank.previous
data=$r/var/lib/jobrank
env_file=$r/etc/jobrank/jobrank.env

[ -x "$bin" ] || die "$bin is not installed; run install.sh first"
[ -f "$new" ] && [ -x "$new" ] || die "$new is not an executable file"
new_version=$("$new" --version 2>/dev/null) || die "$new does not run on this machine"
old_version=$("$bin" --version 2>/dev/null || echo "unknown")

if [ -z "${JOBRANK_HEALTH_URL:-}" ]; then
    bind=
    if [ -r "$env_file" ]; then
        bind=$(sed -n 's/^JOBRANK_BIND=\(.*\)$/\1/p' "$env_file" | tail -n 1)
    fi
    JOBRANK_HEALTH_URL=http://${bind:-127.0.0.1:8080}/readyz
fi

ready() {
    waited=0
    while [ "$waited" -lt "$timeout" ]; do
        if $curl -fsS --max-time 2 "$JOBRANK_HEALTH_URL" >/dev/null 2>&1; then
            return 0
        fi
        sleep 1
        waited=$((waited + 1))
    done
    return 1
}

stamp=$(date -u +%Y%m%dT%H%M%SZ)
backup=$data/backups/pre-upgrade-$stamp.sqlite3
echo "upgrading $old_version -> $new_version"

# 1. An online backup taken by the running version (nothing to back up on a
#    store that was never opened).
if [ -f "$data/jobrank.sqlite3" ]; then
    $runas "$bin" --data-dir "$data" backup "$backup"
else
    backup=
fi

# 2. Keep the current binary; stop; put the new one in place.
cp -p "$bin" "$prev"
$systemctl stop jobrank.service
cp "$new" "$bin.new"
chmod 0755 "$bin.new"
mv -f "$bin.new" "$bin"

rollback() {
    echo "upgrade.sh: $1; rolling back to $old_version" >&2
    $systemctl stop jobrank.service || true
    cp -p "$prev" "$bin.new"
    mv -f "$bin.new" "$bin"
    # The old binary refuses a store migrated past what it knows: restore the backup.
    if ! $runas "$bin" --data-dir "$data" migrate >/dev/null 2>&1; then
        if [ -n "$backup" ]; then
            echo "upgrade.sh: restoring the pre-upgrade backup $backup" >&2
            $runas "$bin" --data-dir "$data" restore "$backup"
        else
            echo "upgrade.sh: the previous binary cannot open the store and there is no backup" >&2
        fi
    fi
    $systemctl start jobrank.service
    if ready; then
        echo "upgrade.sh: rolled back; $old_version is serving again" >&2
    else
        echo "upgrade.sh: rolled back, but $old_version is not ready either; see journalctl -u jobrank" >&2
    fi
    exit 1
}

# 3. Migrate (jobrank backs the store up before changing its schema), start, check.
if ! $runas "$bin" --data-dir "$data" migrate; then
    rollback "jobrank migrate failed"
fi
$systemctl start jobrank.service
if ! ready; then
    rollback "the new version did not answer $JOBRANK_HEALTH_URL within ${timeout}s"
fi
echo "upgraded to $new_version; the previous binary is kept as $prev"
