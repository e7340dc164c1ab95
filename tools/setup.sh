#!/bin/sh
# setup.sh - installs what the build, tests, fuzzing, benchmarks and demo need.
# Debian/Ubuntu: installs missing packages with apt-get (as root, or via sudo).
# macOS: prints the Homebrew line.  --quiet prints nothing when all is present.
set -eu
quiet=0
[ "${1:-}" = "--quiet" ] && quiet=1

case "$(uname -s)" in
Darwin)
	missing=""
	for p in libplist openssl@3 criterion pkg-config llvm lld; do
		brew list --versions "$p" >/dev/null 2>&1 || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		echo "utmpatch needs:$missing"
		echo "  brew install libplist openssl@3 criterion pkg-config llvm lld"
		echo "  export PKG_CONFIG_PATH=\"\$(brew --prefix openssl@3)/lib/pkgconfig:\$PKG_CONFIG_PATH\""
		exit 1
	fi
	exit 0
	;;
esac

# Debian package list: build, test oracles, fuzzing, benchmarks.
PKGS="build-essential pkg-config clang-14 lld-14 llvm-14 libclang-rt-14-dev \
libplist-dev libplist-utils libssl-dev openssl zlib1g-dev libcriterion-dev liblief-dev \
python3 python3-macholib python3-jsonschema libxml2-utils hyperfine groff-base"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
	[ $quiet = 1 ] || echo "setup: all packages present"
	exit 0
fi
echo "setup: installing$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
