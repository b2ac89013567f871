#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# vnat's version: `git describe` of a vX.Y tag in a clone, else the VERSION
# file (a tarball), with the commit appended when git knows it but no tag.
top=$(cd "$(dirname "$0")/.." && pwd)
base=$(cat "$top/VERSION" 2>/dev/null || echo unknown)
if v=$(git -C "$top" describe --tags --match 'v[0-9]*' --dirty 2>/dev/null); then
	echo "${v#v}"
elif h=$(git -C "$top" rev-parse --short HEAD 2>/dev/null); then
	dirty=$(git -C "$top" diff --quiet HEAD 2>/dev/null || echo -dirty)
	echo "$base+g$h$dirty"
else
	echo "$base"
fi
