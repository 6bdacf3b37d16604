#!/usr/bin/env bash
# Render an HTML report in headless Chromium and save a screenshot, to look at the page
# as a browser draws it (Debian: apt-get install -y chromium).
#   scripts/screenshot.sh [NAME] [OUT.png] [WIDTHxHEIGHT]
# e.g. scripts/screenshot.sh googlenet /tmp/googlenet.png 1280x4200
set -euo pipefail
name="${1:-googlenet}"
out="${2:-report.png}"
size="${3:-1280x4000}"
browser="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
if [ -z "$browser" ]; then
    echo "screenshot.sh: no Chromium found (Debian: apt-get install -y chromium)" >&2
    exit 1
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
inception-cost export "$name" -f html -o "$work/report.html"
# no network: the page must draw from its own inline SVG, CSS and script
"$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --hide-scrollbars --window-size="${size/x/,}" --screenshot="$work/shot.png" "file://$work/report.html" \
    2>"$work/browser.log" >/dev/null || { cat "$work/browser.log" >&2; exit 1; }
cp "$work/shot.png" "$out"
echo "$out"
