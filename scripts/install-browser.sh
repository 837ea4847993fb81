#!/usr/bin/env bash
# Debian's Chromium (Playwright drives it; it cannot download a browser of its own here)
# and a Korean font, installed with apt-get when missing.
set -euo pipefail
packages=()
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
[ -d /usr/share/fonts/truetype/nanum ] || packages+=(fonts-nanum)
[ ${#packages[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "Installing ${packages[*]} with apt-get..." >&2
$sudo apt-get install -y -q "${packages[@]}" >/dev/null \
    || { $sudo apt-get update -q >/dev/null && \
         $sudo apt-get install -y -q "${packages[@]}" >/dev/null; }
