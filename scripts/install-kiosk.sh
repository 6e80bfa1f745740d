#!/usr/bin/env bash
# Turn a bare Debian 12 machine into a kiosk (or fill a scratch root with --destdir): the
# sscard-kiosk user, the application under /opt/sscard-kiosk/releases/<version> with its own
# virtual environment, configuration under /etc/sscard-kiosk, data under /var/lib/sscard-kiosk,
# systemd units (cage on tty1, watchdog, updater), udev rules, the pcscd guard. Safe to run again.
#
#   scripts/install-kiosk.sh --bundle 1.2.0.kbundle --release-key KEYID.pub --profile office \
#       --kiosk-id GZ-TH-0012 --pinpad-usb 067b:2303 --idcard-usb 10c4:ea60 --camera-usb 0c45:636b
#   scripts/install-kiosk.sh --from-source --profile demo --destdir /tmp/root --deps-from .venv   # CI
#
# Logs go to the journal (journalctl -u sscard-kiosk). Undo with scripts/uninstall-kiosk.sh.
set -euo pipefail
SRC="$(cd "$(dirname "$0")/.." && pwd)"

DESTDIR="" PROFILE="office" KIOSK_ID="" BUNDLE="" FROM_SOURCE=0 VERSION="" DEPS_FROM="" APT=1
PINPAD_USB="067b:2303" IDCARD_USB="10c4:ea60" CAMERA_USB="0c45:636b"
KEYS=()
usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --destdir) DESTDIR="$(realpath -m "$2")"; shift ;;
    --profile) PROFILE="$2"; shift ;;
    --kiosk-id) KIOSK_ID="$2"; shift ;;
    --bundle) BUNDLE="$(realpath "$2")"; shift ;;
    --release-key) KEYS+=("$(realpath "$2")"); shift ;;
    --from-source) FROM_SOURCE=1 ;;
    --version) VERSION="$2"; shift ;;
    --deps-from) DEPS_FROM="$(realpath "$2")"; shift ;;
    --pinpad-usb) PINPAD_USB="$2"; shift ;;
    --idcard-usb) IDCARD_USB="$2"; shift ;;
    --camera-usb) CAMERA_USB="$2"; shift ;;
    --no-apt) APT=0 ;;
    -h|--help) usage 0 ;;
    *) echo "install-kiosk: unknown option $1" >&2; usage 2 ;;
  esac
  shift
done
die() { echo "install-kiosk: $*" >&2; exit 1; }
case "$PROFILE" in demo|office|field) ;; *) die "--profile must be demo, office or field (got $PROFILE)" ;; esac
[ "$(id -u)" -eq 0 ] || die "run as root (it creates a system user and installs system units)"
if [ -n "$BUNDLE" ] && [ "$FROM_SOURCE" -eq 1 ]; then die "give either --bundle or --from-source"; fi
if [ -z "$BUNDLE" ] && [ "$FROM_SOURCE" -eq 0 ]; then die "give --bundle FILE.kbundle (with --release-key) or --from-source"; fi
for pair in "$PINPAD_USB" "$IDCARD_USB" "$CAMERA_USB"; do
  [[ "$pair" =~ ^[0-9a-f]{4}:[0-9a-f]{4}$ ]] || die "USB ids are vvvv:pppp in lower-case hex (got $pair)"
done
D="$DESTDIR"
LIVE=0; [ -z "$D" ] && LIVE=1            # acting on this machine, not on a scratch root

# 1. Debian packages (live installs only). vpcd stays off a production kiosk.
if [ "$LIVE" -eq 1 ] && [ "$APT" -eq 1 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cage xwayland pcscd libccid udev python3 python3-venv \
    python3-cryptography fonts-noto-cjk >/dev/null
fi
if [ "$PROFILE" != "demo" ] && grep -Eqs '^[[:space:]]*LIBPATH[[:space:]]+[^[:space:]]*vpcd' "$D"/etc/reader.conf.d/*; then
  die "the vpcd virtual reader is enabled in $D/etc/reader.conf.d on a $PROFILE kiosk: apt-get purge vsmartcard-vpcd first"
fi

# 2. Files from deploy/, each to its one place.
put() {  # put MODE SOURCE TARGET
  install -D -m "$1" "$2" "$D$3"
}
put 644 "$SRC/deploy/sysusers.d/sscard-kiosk.conf" /etc/sysusers.d/sscard-kiosk.conf
put 644 "$SRC/deploy/tmpfiles.d/sscard-kiosk.conf" /etc/tmpfiles.d/sscard-kiosk.conf
put 644 "$SRC/deploy/pam.d/cage" /etc/pam.d/cage
for unit in sscard-kiosk.service sscard-kiosk-update.service sscard-kiosk-update.path; do
  put 644 "$SRC/deploy/systemd/$unit" "/etc/systemd/system/$unit"
done
if [ "$PROFILE" != "demo" ]; then
  put 755 "$SRC/deploy/libexec/pcscd-refuse-vpcd" /usr/lib/sscard-kiosk/pcscd-refuse-vpcd
  put 644 "$SRC/deploy/systemd/pcscd.service.d/sscard-kiosk.conf" /etc/systemd/system/pcscd.service.d/sscard-kiosk.conf
else   # a demo kiosk may use vpcd: no guard (and none left from an earlier production install)
  rm -f "$D/usr/lib/sscard-kiosk/pcscd-refuse-vpcd" "$D/etc/systemd/system/pcscd.service.d/sscard-kiosk.conf"
  rmdir "$D/usr/lib/sscard-kiosk" "$D/etc/systemd/system/pcscd.service.d" 2>/dev/null || true
fi
rules="$(mktemp)"
sed -e "s/@PINPAD_VID@/${PINPAD_USB%:*}/; s/@PINPAD_PID@/${PINPAD_USB#*:}/" \
    -e "s/@IDCARD_VID@/${IDCARD_USB%:*}/; s/@IDCARD_PID@/${IDCARD_USB#*:}/" \
    -e "s/@CAMERA_VID@/${CAMERA_USB%:*}/; s/@CAMERA_PID@/${CAMERA_USB#*:}/" "$SRC/deploy/udev/70-sscard-kiosk.rules.in" >"$rules"
put 644 "$rules" /etc/udev/rules.d/70-sscard-kiosk.rules
rm -f "$rules"

# 3. The user and the folders (systemd's own tools; --root works on a scratch root too).
if [ "$LIVE" -eq 1 ]; then
  systemd-sysusers /etc/sysusers.d/sscard-kiosk.conf
  systemd-tmpfiles --create /etc/tmpfiles.d/sscard-kiosk.conf
else
  mkdir -p "$D/etc"
  systemd-sysusers --root="$D" "$D/etc/sysusers.d/sscard-kiosk.conf"
  systemd-tmpfiles --root="$D" --create "$D/etc/tmpfiles.d/sscard-kiosk.conf"
fi
for key in "${KEYS[@]+"${KEYS[@]}"}"; do
  put 644 "$key" "/etc/sscard-kiosk/release-keys/$(basename "$key")"
done

# 4. Configuration: the environment file is the installer's; the site file is the bureau's (kept).
env_file="$(mktemp)"
cat >"$env_file" <<ENV
# Written by scripts/install-kiosk.sh; rerun it to change. Site settings go in site.toml.
KIOSK_PROFILE=$PROFILE
KIOSK__KIOSK__DATA_DIR=/var/lib/sscard-kiosk
KIOSK__FACE__MODELS_DIR=/var/lib/sscard-kiosk/models
ENV
install -D -m 640 "$env_file" "$D/etc/sscard-kiosk/kiosk.env"
rm -f "$env_file"
if [ ! -e "$D/etc/sscard-kiosk/site.toml" ]; then
  {
    echo "# This kiosk's own settings, over config/profiles/$PROFILE.toml (keys: kiosk/config/schema.py)."
    echo "# Check with: kiosk config check /etc/sscard-kiosk/site.toml --profile $PROFILE"
    if [ -n "$KIOSK_ID" ]; then printf '[kiosk]\nid = "%s"\n' "$KIOSK_ID"; fi
  } >"$D/etc/sscard-kiosk/site.toml"
  chmod 640 "$D/etc/sscard-kiosk/site.toml"
fi
if [ "$LIVE" -eq 1 ]; then
  chgrp sscard-kiosk /etc/sscard-kiosk/kiosk.env /etc/sscard-kiosk/site.toml
else
  gid="$(awk -F: '$1=="sscard-kiosk"{print $3}' "$D/etc/group")"
  chgrp "$gid" "$D/etc/sscard-kiosk/kiosk.env" "$D/etc/sscard-kiosk/site.toml"
fi

# 5. The application: a release folder beside any other, then current -> it (atomic rename).
# Debian's python3 (with python3-cryptography) runs the installer and the release's venv.
py=(/usr/bin/python3)
venv_python=/usr/bin/python3
appliance=("${py[@]}" -m kiosk.appliance.cli)
if [ -n "$BUNDLE" ]; then
  PYTHONPATH="$SRC" "${appliance[@]}" install "$BUNDLE" --root "$D/opt/sscard-kiosk" \
    --keys "$D/etc/sscard-kiosk/release-keys" --python "$venv_python" ${DEPS_FROM:+--deps-from "$DEPS_FROM"}
else
  VERSION="${VERSION:-$(PYTHONPATH="$SRC" "${py[@]}" -c 'import tomllib,sys; print(tomllib.load(open(sys.argv[1],"rb"))["project"]["version"])' "$SRC/pyproject.toml")}"
  PYTHONPATH="$SRC" "${appliance[@]}" install-source "$SRC" --version "$VERSION" --root "$D/opt/sscard-kiosk" \
    --python "$venv_python" ${DEPS_FROM:+--deps-from "$DEPS_FROM"}
fi

# 6. Live machine: load it all and start.
if [ "$LIVE" -eq 1 ]; then
  udevadm control --reload && udevadm trigger --subsystem-match=tty --subsystem-match=video4linux
  systemctl daemon-reload
  systemctl enable sscard-kiosk-update.path sscard-kiosk.service
  systemctl set-default graphical.target
  systemctl restart pcscd.socket
  systemctl restart sscard-kiosk.service sscard-kiosk-update.path
  echo "install-kiosk: done. Check with: runuser -u sscard-kiosk -- env \$(grep -v '^#' /etc/sscard-kiosk/kiosk.env) /opt/sscard-kiosk/current/.venv/bin/python -m kiosk.cli doctor --config /etc/sscard-kiosk/site.toml"
else
  echo "install-kiosk: installed into $D"
fi
