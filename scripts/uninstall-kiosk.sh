#!/usr/bin/env bash
# Undo scripts/install-kiosk.sh: stop and remove the units, udev rules, the pcscd guard, the
# application, configuration, data and the sscard-kiosk user. The data folder holds the kiosk's
# store (records not yet synced, its signing key): without --purge-data the uninstall stops if
# it is not empty, so nothing is lost by accident.
#
#   scripts/uninstall-kiosk.sh [--destdir DIR] [--purge-data]
set -euo pipefail
DESTDIR="" PURGE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --destdir) DESTDIR="$(realpath -m "$2")"; shift ;;
    --purge-data) PURGE=1 ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "uninstall-kiosk: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
die() { echo "uninstall-kiosk: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root"
D="$DESTDIR"
LIVE=0; [ -z "$D" ] && LIVE=1

if [ -d "$D/var/lib/sscard-kiosk" ] && [ "$PURGE" -eq 0 ] \
   && [ -n "$(find "$D/var/lib/sscard-kiosk" -mindepth 1 -not -type d -print -quit)" ]; then
  die "$D/var/lib/sscard-kiosk holds the kiosk's store and keys (unsynced records?). Let it sync (kiosk doctor shows the outbox), copy the folder off, then rerun with --purge-data"
fi

if [ "$LIVE" -eq 1 ] && command -v systemctl >/dev/null; then
  systemctl disable --now sscard-kiosk.service sscard-kiosk-update.path sscard-kiosk-update.service 2>/dev/null || true
fi

rm -f "$D/etc/systemd/system/sscard-kiosk.service" "$D/etc/systemd/system/sscard-kiosk-update.service" \
      "$D/etc/systemd/system/sscard-kiosk-update.path" \
      "$D/etc/systemd/system/pcscd.service.d/sscard-kiosk.conf" \
      "$D/etc/udev/rules.d/70-sscard-kiosk.rules" "$D/etc/pam.d/cage" \
      "$D/etc/sysusers.d/sscard-kiosk.conf" "$D/etc/tmpfiles.d/sscard-kiosk.conf"
rm -rf "$D/opt/sscard-kiosk" "$D/usr/lib/sscard-kiosk" "$D/etc/sscard-kiosk" \
       "$D/var/lib/sscard-kiosk" "$D/var/lib/sscard-kiosk-updates" "$D/run/sscard-kiosk"
# Folders the install created, if they are now empty (never a folder something else uses).
for dir in etc/systemd/system/pcscd.service.d etc/systemd/system etc/systemd etc/udev/rules.d etc/udev \
           etc/pam.d etc/sysusers.d etc/tmpfiles.d opt usr/lib usr var/lib var run; do
  [ "$LIVE" -eq 0 ] && rmdir "$D/$dir" 2>/dev/null || true
done

if [ "$LIVE" -eq 1 ]; then
  if id sscard-kiosk >/dev/null 2>&1; then userdel sscard-kiosk; fi
  getent group sscard-kiosk >/dev/null && groupdel sscard-kiosk
  udevadm control --reload 2>/dev/null || true
  systemctl daemon-reload 2>/dev/null || true
else
  for f in passwd group shadow gshadow; do
    [ -f "$D/etc/$f" ] && sed -i '/^sscard-kiosk:/d' "$D/etc/$f"
  done
fi
echo "uninstall-kiosk: removed"
