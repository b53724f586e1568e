#!/bin/bash
# Adds Debian's bookworm-backports suite to apt, from the mirror the image already uses
# (read from its sources, one-line or deb822), so no host name is written here.
set -euo pipefail
suite=bookworm
mirror=
for list in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [[ -f $list && -z $mirror ]] || continue
  # "deb [options] URI SUITE COMPONENTS..." (not deb-src)
  mirror=$(sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$list" | awk -v suite="$suite" '$1 == "deb" && $3 == suite { print $2; exit }')
done
for sources in /etc/apt/sources.list.d/*.sources; do
  [[ -f $sources && -z $mirror ]] || continue
  # deb822 stanzas: the first URI of a stanza whose Suites list holds the suite.
  mirror=$(awk -v suite="$suite" '
    /^$/ { uri = ""; found = 0 }
    /^URIs:/ { uri = $2 }
    /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) found = 1 }
    uri != "" && found { print uri; exit }' "$sources")
done
if [[ -z $mirror ]]; then
  echo "add-backports: no \"deb URI $suite\" entry in /etc/apt/sources.list*: cannot tell which mirror to use" >&2
  exit 1
fi
echo "deb ${mirror%/} $suite-backports main" > /etc/apt/sources.list.d/backports.list
echo "add-backports: ${mirror%/} $suite-backports"
