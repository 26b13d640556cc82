#!/bin/sh
# vendor-sdks.sh: refresh the vendored copies of Boxo's JavaScript SDKs from npm and say what
# changed. The demo pages embed these files (go:embed), so nothing needs npm or a network
# when boxo-sim runs; this script is the only place that talks to npm.
#
#   WEB_SDK_VERSION=1.4.4 JS_SDK_VERSION=1.9.0 internal/jsvendor/vendor-sdks.sh
#
# After a version change, update WebSDKVersion (hostapp/web.go) or JSSDKVersion
# (miniapp/web.go): a test compares them with the vendored package.json.
set -eu

WEB_SDK_VERSION=${WEB_SDK_VERSION:-1.4.4}
JS_SDK_VERSION=${JS_SDK_VERSION:-1.9.0}
root=$(cd "$(dirname "$0")/../.." && pwd)
web_dir=$root/hostapp/web/vendor/web-sdk
js_dir=$root/miniapp/web/vendor/js-sdk

command -v npm >/dev/null || { echo "vendor-sdks: npm is needed to refresh the SDKs (the build never needs it)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

version_of() { sed -n 's/^  "version": "\(.*\)",$/\1/p' "$1/package.json" 2>/dev/null || true; }

# fetch PACKAGE VERSION DEST FILES...: unpack the npm tarball and copy FILES (paths inside the
# package, globs allowed) into DEST, replacing what was there.
fetch() {
	pkg=$1 ver=$2 dest=$3
	shift 3
	old=$(version_of "$dest")
	(cd "$tmp" && npm pack --silent "$pkg@$ver" >/dev/null)
	mkdir -p "$tmp/$ver-$$" && tar -xzf "$tmp"/*.tgz -C "$tmp/$ver-$$" && rm -f "$tmp"/*.tgz
	src=$tmp/$ver-$$/package
	rm -rf "$dest" && mkdir -p "$dest"
	for f in "$@"; do
		(cd "$src" && find . -path "./$f" -type f) | while read -r p; do
			mkdir -p "$dest/$(dirname "$p")" && cp "$src/$p" "$dest/$p"
		done
	done
	echo "$pkg: ${old:-none} -> $ver"
}

fetch @appboxo/web-sdk "$WEB_SDK_VERSION" "$web_dir" LICENSE README.md package.json 'dist/*.js'
fetch @appboxo/js-sdk "$JS_SDK_VERSION" "$js_dir" LICENSE README.md package.json CHANGELOG.md dist/browser.min.js

cd "$root"
if git rev-parse --git-dir >/dev/null 2>&1; then
	git add -N hostapp/web/vendor miniapp/web/vendor
	if git diff --quiet -- hostapp/web/vendor miniapp/web/vendor; then
		echo "vendored SDKs: no change"
	else
		echo "vendored SDKs changed:"
		git diff --stat -- hostapp/web/vendor miniapp/web/vendor
	fi
fi
