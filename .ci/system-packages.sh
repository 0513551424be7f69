#!/usr/bin/env bash
# Install the Debian packages the tests and the data factory need (only the missing ones).
# Without root, list what is missing and fail.
set -euo pipefail
packages=(
  ffmpeg            # decoding formats libsndfile does not read
  musescore3        # the reference reader of our .mscx files
  chromium          # screenshot of the Streamlit page
  fluidsynth libfluidsynth3
  fluid-soundfont-gm timgm6mb-soundfont musescore-general-soundfont-small
  hydrogen-drumkits hydrogen-data avldrums.lv2-soundfont
  freedoom mma planetblupi-music-midi openttd-openmsx
)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages (install them as root): ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
