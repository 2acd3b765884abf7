#!/bin/sh
# Make a Debian bookworm base image from Debian's packages (Docker Hub cannot be reached here):
# debootstrap a minimal root file system, add this machine's CA certificates (so that apt,
# pip and Maven inside containers trust the same TLS endpoints the host does), import it.
set -eu
NAME="${1:?usage: debian-base.sh IMAGE_NAME}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
root=$(mktemp -d /tmp/pinlake-debootstrap.XXXXXX)
trap 'rm -rf "$root"' EXIT

debootstrap --variant=minbase --include=ca-certificates bookworm "$root" "$MIRROR" >/dev/null
# One file per certificate of the host's bundle: update-ca-certificates (and the Java trust
# store that ca-certificates-java builds from it later) reads single certificates.
mkdir -p "$root/usr/local/share/ca-certificates/host"
awk -v dir="$root/usr/local/share/ca-certificates/host" '
  /BEGIN CERTIFICATE/ { n++; file = sprintf("%s/host-%03d.crt", dir, n) }
  file { print > file }
  /END CERTIFICATE/ { close(file); file = "" }' /etc/ssl/certs/ca-certificates.crt
chroot "$root" update-ca-certificates >/dev/null 2>&1
printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb http://deb.debian.org/debian-security bookworm-security main\n' \
  "$MIRROR" "$MIRROR" > "$root/etc/apt/sources.list"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
tar -C "$root" -c . | docker import --change 'CMD ["/bin/bash"]' - "$NAME" >/dev/null
echo "$NAME"
