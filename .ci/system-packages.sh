#!/usr/bin/env bash
# Install the Debian packages the tests need (only the missing ones): the programs below,
# then the training-data factory's sound sources (data_prep/install_sounds.sh).
# Without root, list what is missing and fail.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(
  ffmpeg            # decoding formats libsndfile does not read
  musescore3        # the reference reader of our .mscx files
  chromium          # screenshot of the Streamlit page
)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages (install them as root): ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
sh data_prep/install_sounds.sh
