#!/usr/bin/env bash
# Regenerates testdata/cowrie/cowrie.json: runs a real Cowrie honeypot (PyPI) as an
# unprivileged user, attacks it with real SSH/Telnet clients (driver.py) and keeps the JSON
# log it writes, unmodified. Everything runs in a private network namespace that has only a
# loopback interface, so no packet can leave the machine.
#
# Usage (as root: it creates the user and the namespace):  scripts/cowrie-fixtures/generate.sh
# Not run in CI. See README.md.
set -euo pipefail

COWRIE_VERSION="${COWRIE_VERSION:-3.1.4}"
ASYNCSSH_VERSION="${ASYNCSSH_VERSION:-2.24.1}"
RUN_USER="${RUN_USER:-cowrie}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="$REPO/testdata/cowrie"

as_user() { runuser -u "$RUN_USER" -- "$@"; }

# Runs inside the namespace: servers, honeypot, attacker, clean shutdown.
inside() {
    local base="$1" state="$1/state" venv="$1/venv"
    ip link set lo up
    ip addr add 192.0.0.9/32 dev lo
    # `exec` so that $! is runuser itself, which passes SIGTERM on to its child.
    (exec runuser -u "$RUN_USER" -- "$venv/bin/python" "$HERE/lab_servers.py") &
    local lab=$!
    (cd "$state" && exec runuser -u "$RUN_USER" -- env TZ=UTC COWRIE_STDOUT=yes \
        PATH="$venv/bin:/usr/bin:/bin" "$venv/bin/cowrie" start) >"$base/cowrie-stdout.log" 2>&1 &
    local honeypot=$!
    for _ in $(seq 1 60); do
        kill -0 "$honeypot" 2>/dev/null || { echo "cowrie exited, see $base/cowrie-stdout.log" >&2; kill "$lab"; return 1; }
        if [[ $(grep -c "Ready to accept" "$base/cowrie-stdout.log" 2>/dev/null) -ge 2 ]]; then
            break
        fi
        sleep 1
    done
    local status=0
    (cd "$base/work" && as_user "$venv/bin/python" "$HERE/driver.py" "$base/work") || status=$?
    # SIGTERM lets Cowrie close open sessions and TTY logs, as a real shutdown does.
    kill -TERM "$honeypot"
    wait "$honeypot" || true
    kill -TERM "$lab"
    wait "$lab" || true
    return "$status"
}

if [[ "${1:-}" == "--inside" ]]; then
    inside "$2"
    exit $?
fi

[[ $EUID -eq 0 ]] || { echo "run as root (creates user $RUN_USER and a network namespace)" >&2; exit 1; }
id "$RUN_USER" >/dev/null 2>&1 || useradd -m -s /bin/bash "$RUN_USER"
BASE="$(getent passwd "$RUN_USER" | cut -d: -f6)/ward-fixtures"
as_user mkdir -p "$BASE"
if [[ ! -x "$BASE/venv/bin/cowrie" ]] || ! "$BASE/venv/bin/pip" show cowrie 2>/dev/null | grep -qx "Version: $COWRIE_VERSION"; then
    as_user python3 -m venv "$BASE/venv"
    as_user "$BASE/venv/bin/pip" install --quiet "cowrie==$COWRIE_VERSION" "asyncssh==$ASYNCSSH_VERSION"
fi

# A fresh honeypot state each run: new host keys, empty log, empty downloads.
rm -rf "$BASE/state" "$BASE/work"
as_user mkdir -p "$BASE/state" "$BASE/work"
(cd "$BASE/state" && as_user "$BASE/venv/bin/cowrie" init >/dev/null)
install -o "$RUN_USER" -m 0644 "$HERE/cowrie.cfg" "$BASE/state/etc/cowrie.cfg"

started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
unshare --net "$0" --inside "$BASE"

mkdir -p "$OUT"
cp "$BASE/state/var/log/cowrie/cowrie.json" "$OUT/cowrie.json"
counts="$(python3 -c '
import collections, json, sys
c = collections.Counter(json.loads(l)["eventid"] for l in open(sys.argv[1]))
print("\n".join(f"  {n:4d}  {e}" for e, n in sorted(c.items())))
print(f"  {sum(c.values()):4d}  total")' "$OUT/cowrie.json")"
cat >"$OUT/SOURCE" <<EOF
cowrie.json: the JSON log (output_jsonlog) written by a real Cowrie honeypot, unmodified.

Cowrie:    $COWRIE_VERSION (PyPI package \`cowrie\`), Python $("$BASE/venv/bin/python" -V 2>&1 | cut -d' ' -f2), Twisted $("$BASE/venv/bin/pip" show twisted | sed -n 's/^Version: //p')
Clients:   AsyncSSH $ASYNCSSH_VERSION, $(ssh -V 2>&1), raw sockets (Telnet, protocol probes)
Generated: $started by scripts/cowrie-fixtures/generate.sh (driver.py, lab_servers.py, cowrie.cfg)
Command:   sudo scripts/cowrie-fixtures/generate.sh

Cowrie ran as the unprivileged user '$RUN_USER' with scripts/cowrie-fixtures/cowrie.cfg over its
bundled defaults, SSH on 127.0.0.1:2222 and Telnet on 127.0.0.1:2223, inside a private network
namespace with only a loopback interface. 192.0.0.9 is an address added to that loopback for the
lab web server, because Cowrie refuses to download from loopback and private addresses. All source
addresses are 127.0.0.1. Passwords, keys and payloads are throwaway values made up for the run.

Events per eventid:
$counts

Not produced here, and why:
  cowrie.virustotal.*, cowrie.greynoise.result, cowrie.urlhaus.submitted,
  cowrie.malwarebazaar.submitted, cowrie.reversedns.*: emitted by output plugins that query
  internet services (with API keys); this machine reaches no such service.
  cowrie.abuseipdb.*: the same, and in Cowrie 3 these events carry no session, so they reach
  only the console log, never cowrie.json.
  cowrie.proxy.*, cowrie.direct-tcpip.* through the proxy: need Cowrie's proxy mode with a real
  backend SSH/Telnet server or a libvirt VM pool.
  cowrie.log.open: emitted only by cowrie.ssh.channel.CowrieSSHChannel, which Cowrie $COWRIE_VERSION
  does not use.
  cowrie.session.file_download from ftpget/tftp: need an FTP/TFTP server at a globally routable
  address (the driver's tftp attempt at a TEST-NET address is refused by Cowrie's blocklist and
  logs only its cowrie.command.input).
EOF
echo "wrote $OUT/cowrie.json and $OUT/SOURCE"
echo "$counts"
