#!/usr/bin/env bash
# Installs what `make test` needs beyond Go, when it is missing: OpenSSH's
# server and client (the OpenSSH transport test of proxmoxsdk starts a real
# sshd on loopback). Idempotent: does nothing when sshd is installed. Installs
# with apt-get when run as root (CI runs as root); otherwise it says so and the
# test skips. Under CI (CI set) a failed install is an error.
set -euo pipefail
have_sshd() { [ -x /usr/sbin/sshd ] || command -v sshd >/dev/null 2>&1; }
if have_sshd && command -v ssh >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1; then
	exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "test-deps: installing openssh-server (for the OpenSSH transport test)"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -qq openssh-server openssh-client >/dev/null 2>&1; then
		apt-get update -qq
		apt-get install -y -qq openssh-server openssh-client >/dev/null
	fi
	# Debian starts the service on install where it can; the test runs its own sshd.
	have_sshd && exit 0
fi
if [ -n "${CI:-}" ]; then
	echo "test-deps: openssh-server is missing and could not be installed" >&2
	exit 1
fi
echo "test-deps: sshd not installed (apt-get install -y openssh-server); the OpenSSH transport test will skip" >&2
