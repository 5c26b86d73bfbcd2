#!/usr/bin/env bash
# Debian packages mzdesk needs beyond Python: Qt's offscreen/xcb libraries, a CJK
# font for the screen, poppler (pdftotext in tests), the age CLI (batch tests),
# Xvfb (screenshots), binutils (PyInstaller) and PostgreSQL (tests/pg start their own
# server from its binaries; the cluster that the package may create is not used).  Installs only what is missing.
set -euo pipefail
pkgs=(
  libegl1 libgl1 libfontconfig1 libxkbcommon0 libdbus-1-3 libglib2.0-0 libx11-6 libgssapi-krb5-2
  fonts-wqy-microhei poppler-utils age binutils
  zbar-tools  # sync tests: the public-key QR code is read back with zbarimg
  libreoffice-calc  # roster tests: exported xlsx read back by LibreOffice headless (slow test)
  xvfb xauth libxkbcommon-x11-0 libx11-xcb1 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1
  libxcb-image0 libxcb-randr0 libxcb-render-util0 libxcb-render0 libxcb-shape0 libxcb-shm0
  libxcb-sync1 libxcb-util1 libxcb-xfixes0 libxcb-xkb1
  postgresql  # tests/pg: the PostgreSQL receiver against a real server
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing system packages (install them by hand): ${missing[*]}" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
