#!/bin/sh
# Installs jobrank on a Debian VM: the `jobrank` system user, its data directory,
# the binary, the hardened systemd unit, the settings file (never overwritten) and,
# with --domain, Caddy's configuration for automatic HTTPS. Then enables and starts
# the service. Nightly backups are taken by jobrank itself (JOBRANK_BACKUP_AT), so
# there is no separate timer.
#
# Usage: sudo sh deploy/install.sh [--binary PATH] [--domain NAME] [--email ADDR] [--root DIR]
#
#   --binary PATH  the jobrank binary to install (default: ./jobrank beside this
#                  script, else target/release/jobrank)
#   --domain NAME  the DNS name of this VM: writes /etc/caddy/Caddyfile (the old one
#                  is kept as Caddyfile.before-jobrank) and JOBRANK_PUBLIC_URL
#   --email ADDR   the address Let's Encrypt writes to about certificates
#   --root DIR     install under DIR instead of / (tests; no systemd there)
#
# The commands it runs can be replaced through the environment (tests do):
#   JOBRANK_SYSTEMCTL (default systemctl), JOBRANK_USERADD (default useradd).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=/
binary=
domain=
email=

die() {
    echo "install.sh: $*" >&2
    exit 1
}

while [ $# -gt 0 ]; do
    case "$1" in
    --root) [ $# -ge 2 ] || die "--root needs a directory"; root=$2; shift 2 ;;
    --binary) [ $# -ge 2 ] || die "--binary needs a path"; binary=$2; shift 2 ;;
    --domain) [ $# -ge 2 ] || die "--domain needs a name"; domain=$2; shift 2 ;;
    --email) [ $# -ge 2 ] || die "--email needs an address"; email=$2; shift 2 ;;
    -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
    esac
done

systemctl=${JOBRANK_SYSTEMCTL:-systemctl}
useradd=${JOBRANK_USERADD:-useradd}

[ "$(id -u)" = 0 ] || die "run as root (sudo sh $0 ...)"
[ -d "$root" ] || die "--root $root is not a directory"
root=$(cd "$root" && pwd)
# Paths below are absolute; $r is the prefix ("" for the real system).
if [ "$root" = / ]; then r=; else r=$root; fi

if [ -z "$binary" ]; then
    if [ -x "$here/jobrank" ]; then
        binary=$here/jobrank
    elif [ -x "$here/../target/release/jobrank" ]; then
        binary=$here/../target/release/jobrank
    else
        die "no jobrank binary found; pass --binary PATH"
    fi
fi
[ -f "$binary" ] && [ -x "$binary" ] || die "$binary is not an executable file"
"$binary" --version >/dev/null 2>&1 || die "$binary does not run on this machine (wrong architecture?)"
case "$domain" in
*[!A-Za-z0-9.-]*) die "--domain $domain is not a DNS name" ;;
esac

for f in jobrank.service jobrank.env.example Caddyfile README.md; do
    [ -f "$here/$f" ] || die "$here/$f is missing; run the script from the deploy folder it came in"
done

# 1. The system user: no login, no home outside the data directory.
mkdir -p "$r/etc"
if ! grep -q '^jobrank:' "$r/etc/passwd" 2>/dev/null; then
    if [ -n "$r" ]; then
        $useradd --root "$root" --system --user-group --home-dir /var/lib/jobrank \
            --no-create-home --shell /usr/sbin/nologin jobrank
    else
        $useradd --system --user-group --home-dir /var/lib/jobrank \
            --no-create-home --shell /usr/sbin/nologin jobrank
    fi
    echo "created system user jobrank"
fi
uid=$(awk -F: '$1 == "jobrank" { print $3 }' "$r/etc/passwd")
gid=$(awk -F: '$1 == "jobrank" { print $4 }' "$r/etc/passwd")
[ -n "$uid" ] && [ -n "$gid" ] || die "user jobrank was not created in $r/etc/passwd"

# 2. Directories: data and backups readable by jobrank only; settings by root and
#    the jobrank group.
install -d -m 0755 "$r/usr/local/bin" "$r/etc/systemd/system" "$r/usr/local/share/doc/jobrank"
install -d -m 0750 -o "$uid" -g "$gid" "$r/var/lib/jobrank" "$r/var/lib/jobrank/backups"
install -d -m 0750 -o 0 -g "$gid" "$r/etc/jobrank"

# 3. Binary, unit, documentation.
install -m 0755 -o 0 -g 0 "$binary" "$r/usr/local/bin/jobrank.new"
mv -f "$r/usr/local/bin/jobrank.new" "$r/usr/local/bin/jobrank"
install -m 0644 -o 0 -g 0 "$here/jobrank.service" "$r/etc/systemd/system/jobrank.service"
for f in README.md Caddyfile jobrank.env.example upgrade.sh; do
    [ -f "$here/$f" ] && install -m 0644 -o 0 -g 0 "$here/$f" "$r/usr/local/share/doc/jobrank/$f"
done

# 4. Settings: a template the first time, never overwritten afterwards.
env_file=$r/etc/jobrank/jobrank.env
if [ -e "$env_file" ]; then
    echo "kept the existing $env_file"
else
    tmp=$env_file.tmp
    if [ -n "$domain" ]; then
        sed "s|^JOBRANK_PUBLIC_URL=.*|JOBRANK_PUBLIC_URL=https://$domain|" "$here/jobrank.env.example" >"$tmp"
    else
        cp "$here/jobrank.env.example" "$tmp"
    fi
    chown 0:"$gid" "$tmp"
    chmod 0640 "$tmp"
    mv "$tmp" "$env_file"
    echo "wrote $env_file: fill in the secrets, then: systemctl restart jobrank"
fi

# 5. Caddy (automatic HTTPS), only when the domain is given.
if [ -n "$domain" ]; then
    install -d -m 0755 "$r/etc/caddy"
    caddyfile=$r/etc/caddy/Caddyfile
    if [ -e "$caddyfile" ] && ! grep -q 'jobrank' "$caddyfile"; then
        cp -p "$caddyfile" "$caddyfile.before-jobrank"
    fi
    sed -e "s|^jobrank.example.com {|$domain {|" \
        -e "s|email ops@example.com|email ${email:-ops@$domain}|" \
        "$here/Caddyfile" >"$caddyfile.tmp"
    chmod 0644 "$caddyfile.tmp"
    mv "$caddyfile.tmp" "$caddyfile"
    echo "wrote $caddyfile for https://$domain"
fi

# 6. Enable and start. Backups run inside jobrank at JOBRANK_BACKUP_AT.
if [ -n "$r" ]; then
    $systemctl --root="$root" enable jobrank.service
else
    $systemctl daemon-reload
    $systemctl enable --now jobrank.service
    if [ -n "$domain" ]; then
        $systemctl reload-or-restart caddy.service
    fi
fi
echo "jobrank installed; check it with: curl -fsS http://127.0.0.1:8080/readyz"
