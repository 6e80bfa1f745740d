#!/usr/bin/env bash
# Set up a fresh Debian 12 machine for the kiosk: system packages, a virtual environment with the
# pinned Python packages, and the face models converted from ../shared. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

SHARED="${KIOSK_SHARED_DIR:-../shared}"
PYTHON="${PYTHON:-python3}"

APT_PACKAGES=(
  pcscd vsmartcard-vpcd libpcsclite-dev swig gcc      # PC/SC stack (pyscard builds from source)
  postgresql                                         # the backend's database (tests start their own cluster)
  fonts-noto-cjk poppler-utils                       # Chinese text on screen; pdftoppm (field report test)
  xvfb espeak-ng socat                               # screenshots, voice prompts, serial tests
  libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libdbus-1-3 libfontconfig1
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0
  libxcb-randr0 libxcb-render-util0 libxcb-image0    # Qt's xcb platform plugin
  pcsc-tools                                         # ATR_analysis: the simulators' ATRs must parse
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The tests start their own pcscd with virtual readers; a system pcscd (systemd socket activation)
# would own /run/pcscd. Never do this on a production kiosk: there the system pcscd is the one.
if [ "${CI:-}" = "true" ]; then
  if command -v systemctl >/dev/null 2>&1; then
    systemctl stop pcscd.socket pcscd.service >/dev/null 2>&1 || true
  fi
  # Without systemd the package's init script may have started one.
  if pgrep -x pcscd >/dev/null 2>&1; then
    service pcscd stop >/dev/null 2>&1 || pkill -x pcscd || true
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'

# Exactly one OpenCV distribution: the GUI build bundles a Qt that fights PySide6.
if .venv/bin/python -m pip show opencv-python >/dev/null 2>&1; then
  echo "setup: removing opencv-python (the headless build is the one the kiosk uses)"
  .venv/bin/python -m pip uninstall -q -y opencv-python
fi

if [ -f models/install.py ]; then
  .venv/bin/kiosk models install --from "$SHARED/models/minifasnet"
fi
echo "setup: done. Start the demo kiosk with: .venv/bin/kiosk --windowed (or fullscreen: .venv/bin/kiosk)"
