#!/bin/sh
# devtools/apt-install.sh PACKAGE WHAT [SERVICE]
# Installs Debian's PACKAGE for the tests that need it (WHAT, e.g. "the nginx tests"), when we
# are root and apt-get exists; else says which tests will be skipped. SERVICE, if given, is a
# service the package may start on install: the tests run their own, so it is stopped and disabled.
# Never fails: a missing package only makes its tests skip.
package=$1 what=$2 service=$3
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "note: $package is not installed and we are not root (or have no apt-get); $what will be skipped" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
install() { apt-get install -y -qq --no-install-recommends "$package" >/dev/null; }
if ! { install || { apt-get update -qq >/dev/null && install; }; }; then
  echo "warning: could not install $package; $what will be skipped" >&2
  exit 0
fi
if [ -n "$service" ]; then
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    systemctl disable --now "$service" >/dev/null 2>&1
  elif command -v service >/dev/null; then
    service "$service" stop >/dev/null 2>&1
  fi
fi
exit 0
