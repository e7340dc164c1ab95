#!/bin/sh
# build-demo.sh OUTDIR - builds OUTDIR/UTM.app, a small stand-in shaped like the
# official UTM 5.0.3 release for macOS (layout, Info.plists, universal
# frameworks made the way UTM's build_dependencies.sh fixup() makes them,
# install names, rpaths).  See testdata/demo/README.md for what comes from where.
#
# Steps, mirroring UTM's own build:
#   1. per architecture, a "sysroot": each dependency library and the two QEMU
#      libraries linked as lib<N>.dylib with absolute sysroot install names;
#   2. per architecture, fixup(): each lib<N>.dylib becomes N.framework
#      (Versions/A/N + Resources/Info.plist + symlinks), its id and its
#      dependencies rewritten to @rpath framework form by `utmpatch macho edit`;
#   3. per architecture, the executables (UTM, utmctl, QEMUHelper,
#      QEMULauncher) linked against those frameworks with UTM's rpaths;
#   4. pack: every framework binary and executable lipo-merged (arm64 + x86_64)
#      into the bundle, with the static files from testdata/demo/bundle/;
#   5. sign_bundle: every component signed inside-out with the TEST-ONLY
#      Developer ID identity of testdata/keys (see sign_bundle below).
#
# Tools: clang-14, ld64.lld-14, llvm-lipo-14 (as in testdata/recipes/common.sh)
# and utmpatch (UTMPATCH, default build/utmpatch).  Deterministic: two runs give
# byte-identical trees.  Nothing is left in OUTDIR on failure except what was
# there before; an existing OUTDIR/UTM.app is replaced only at the end.
set -eu

if [ $# -ne 1 ]; then
	echo "usage: build-demo.sh OUTDIR" >&2
	exit 2
fi
demo=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$demo/../.." && pwd)
recipes=$root/testdata/recipes
# shellcheck source=testdata/recipes/common.sh
. "$recipes/common.sh"
UTMPATCH=${UTMPATCH:-$root/build/utmpatch}
[ -x "$UTMPATCH" ] || { echo "build-demo: '$UTMPATCH' not found (run make first)" >&2; exit 1; }
dsrc=$demo/src

mkdir -p "$1"
out=$(cd "$1" && pwd)
tmp=$out/.tmp-demo
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

# The dependency libraries: name, the two functions it exports (the names
# qemu.c and utm.c import), and the libraries it imports from (one function
# each), in link order.  Listed so that dependencies come first.  The edges
# follow the real libraries (gettext needs iconv, glib needs gettext, gio
# needs gobject and gmodule, slirp and spice-server need glib, ...).
LIBS="iconv.2:libiconv_open:libiconv:
intl.8:libintl_gettext:libintl_textdomain:iconv.2
glib-2.0.0:g_main_context_default:g_free:intl.8 iconv.2
gmodule-2.0.0:g_module_open:g_module_symbol:glib-2.0.0 intl.8
gobject-2.0.0:g_object_ref:g_object_unref:glib-2.0.0 intl.8
gio-2.0.0:g_file_new_for_path:g_resource_load:gobject-2.0.0 gmodule-2.0.0 glib-2.0.0 intl.8
pixman-1.0:pixman_image_create_bits:pixman_image_unref:
jpeg.62:jpeg_CreateCompress:jpeg_finish_compress:
png16.16:png_create_write_struct:png_write_info:
zstd.1:ZSTD_compress:ZSTD_decompress:
epoxy.0:epoxy_has_gl_extension:epoxy_gl_version:
usb-1.0.0:libusb_init:libusb_exit:
slirp.0:slirp_new:slirp_input:glib-2.0.0
spice-server.1:spice_server_new:spice_server_init:glib-2.0.0 pixman-1.0 jpeg.62 zstd.1"
# What qemu.c imports from (all of testdata/recipes' 14 stubs).
QEMU_DEPS="pixman-1.0 glib-2.0.0 gio-2.0.0 gobject-2.0.0 intl.8 iconv.2 jpeg.62 png16.16 slirp.0 spice-server.1 epoxy.0 zstd.1 gmodule-2.0.0 usb-1.0.0"
QEMU_TARGETS="aarch64 x86_64"
# The frameworks the UTM executable links (UTM's "Frameworks" build phase has these among others).
UTM_LINKS="spice-server.1 glib-2.0.0 pixman-1.0 slirp.0"
ARCHS="arm64 x86_64"
# UTM's deployment targets: the prebuilt dependencies are built for 11.0
# (SDKMINVER), the app targets for MACOSX_DEPLOYMENT_TARGET = 11.3.
LIB_MINOS=11.0
APP_MINOS=11.3

# dlink ARCH MINOS OUT [LD FLAGS AND INPUTS...] - like common.sh's link, with
# the demo's libSystem stub (which also has dlopen/dlsym for the launcher).
dlink() {
	_arch=$1 _minos=$2 _out=$3
	shift 3
	"$LLD" -arch "$_arch" -platform_version macos "$_minos" 12.0 -o "$_out" "$@" "$dsrc/libSystem.tbd"
}

# export_of NAME - the first function library NAME exports
export_of() {
	echo "$LIBS" | while IFS=: read -r n f1 f2 deps; do
		if [ "$n" = "$1" ]; then
			echo "$f1"
		fi
	done
}

# framework_plist NAME FILE - the Info.plist fixup() writes with PlistBuddy
# (exactly these five keys; the bundle id has "_" turned into "-"), in the XML
# form CoreFoundation writes (keys sorted, tab indented).
framework_plist() {
	_id=$(echo "$1" | tr _ -)
	cat >"$2" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>CFBundleExecutable</key>
	<string>$1</string>
	<key>CFBundleIdentifier</key>
	<string>com.utmapp.$_id</string>
	<key>CFBundleShortVersionString</key>
	<string>1.0</string>
	<key>CFBundleVersion</key>
	<string>1</string>
	<key>MinimumOSVersion</key>
	<string>$LIB_MINOS</string>
</dict>
</plist>
EOF
}

# framework_links DIR NAME - the three symlinks of a versioned framework
framework_links() {
	ln -s A "$1/Versions/Current"
	ln -s Versions/Current/Resources "$1/Resources"
	ln -s "Versions/Current/$2" "$1/$2"
}

# fixup ARCH NAME DEPS... - sysroot lib<NAME>.dylib -> Frameworks/NAME.framework,
# as UTM's fixup(): copy, Info.plist, symlinks, then one utmpatch edit for the
# id (@rpath/N.framework/N) and every sysroot dependency
# (@rpath/M.framework/Versions/A/M).
fixup() {
	_a=$1 _n=$2
	shift 2
	_fw=$tmp/$_a/Frameworks/$_n.framework
	mkdir -p "$_fw/Versions/A/Resources"
	cp "$tmp/$_a/lib/lib$_n.dylib" "$_fw/Versions/A/$_n"
	framework_plist "$_n" "$_fw/Versions/A/Resources/Info.plist"
	framework_links "$_fw" "$_n"
	# shellcheck disable=SC2046
	set -- --id "@rpath/$_n.framework/$_n" $(for m in "$@"; do
		echo "--change $(sysroot "$_a")/lib$m.dylib @rpath/$m.framework/Versions/A/$m"
	done)
	"$UTMPATCH" macho edit "$_fw/Versions/A/$_n" "$@" >/dev/null
}

# The signing time written into every CMS signature (2025-01-01T00:00:00Z):
# fixed so that two builds give the same bytes (the test keys are RSA, whose
# PKCS#1 v1.5 signatures are deterministic).  Override with DEMO_SIGNING_TIME.
SIGNING_TIME=${DEMO_SIGNING_TIME:-1735689600}

# sign_bundle APP - signs every component inside-out, as UTM's Developer ID
# release is signed (utm-domain.md §2.3): `utmpatch sign --nested` signs each
# Frameworks/*.framework (Versions/A, no entitlements), QEMULauncher.app,
# QEMUHelper.xpc, MacOS/utmctl and last UTM.app, with the TEST-ONLY Developer
# ID identity from testdata/keys (team ID = its leaf OU, UTMTEST123; the test
# root listed as an anchor), hardened runtime, and each component's release
# entitlements from testdata/demo/entitlements.  The stand-in provisioning
# profile goes into UTM.app, QEMUHelper.xpc and QEMULauncher.app first, so
# that each seal covers it (rule ^embedded\.provisionprofile$).
sign_bundle() {
	_app=$1
	_keys=$root/testdata/keys
	_ent=$demo/entitlements
	_helper=Contents/XPCServices/QEMUHelper.xpc
	_launcher=$_helper/Contents/MacOS/QEMULauncher.app
	for _d in Contents "$_helper/Contents" "$_launcher/Contents"; do
		cp "$_keys/embedded.provisionprofile" "$_app/$_d/embedded.provisionprofile"
		chmod 0644 "$_app/$_d/embedded.provisionprofile"
	done
	"$UTMPATCH" sign "$_app" --nested --runtime \
		--identity "$_keys/identity.p12" --password-file "$_keys/identity.pass" \
		--anchors "$_keys/roots.tsv" --signing-time "$SIGNING_TIME" \
		--entitlements "$_ent/UTM.entitlements" \
		--component-entitlements "Contents/MacOS/utmctl=$_ent/utmctl.entitlements" \
		--component-entitlements "$_helper=$_ent/QEMUHelper.entitlements" \
		--component-entitlements "$_launcher=$_ent/QEMULauncher.entitlements" >"$tmp/sign.log"
	sed -n '$s|.*: signed |signing: UTM.app: signed |p' "$tmp/sign.log"
}

# build_arch ARCH - steps 1-3 for one architecture: sysroot libraries,
# frameworks, executables, all under $tmp/ARCH.
build_arch() {
	a=$1
	o=$tmp/$a/obj
	lib=$tmp/$a/lib
	mkdir -p "$o" "$lib" "$tmp/$a/Frameworks" "$tmp/$a/bin"
	sr=$(sysroot "$a")

	echo "$LIBS" | while IFS=: read -r n f1 f2 deps; do
		imports=""
		for m in $deps; do
			imports="$imports X($(export_of "$m"))"
		done
		cc "$a" "$dsrc/framework.c" "$o/lib$n.o" -DDEMO_F1="$f1" -DDEMO_F2="$f2" \
			"-DDEMO_IMPORTS=$imports"
		# shellcheck disable=SC2046
		dlink "$a" $LIB_MINOS "$lib/lib$n.dylib" -dylib -install_name "$sr/lib$n.dylib" \
			-current_version 1.0.0 -compatibility_version 1.0.0 -headerpad_max_install_names \
			"$o/lib$n.o" $(for m in $deps; do echo "$lib/lib$m.dylib"; done)
		# shellcheck disable=SC2086
		fixup "$a" "$n" $deps
	done

	cc "$a" "$recipes/src/qemu.c" "$o/qemu.o"
	for t in $QEMU_TARGETS; do
		n=qemu-$t-softmmu
		# shellcheck disable=SC2046
		dlink "$a" $LIB_MINOS "$lib/lib$n.dylib" -dylib -install_name "$sr/lib$n.dylib" \
			-current_version 10.0.2 -compatibility_version 1.0.0 -headerpad_max_install_names \
			"$o/qemu.o" $(for m in $QEMU_DEPS; do echo "$lib/lib$m.dylib"; done)
		# shellcheck disable=SC2086
		fixup "$a" "$n" $QEMU_DEPS
	done

	for s in utm utmctl helper launcher; do
		cc "$a" "$dsrc/$s.c" "$o/$s.o"
	done
	cc "$a" "$dsrc/info_plist.S" "$o/info_plist.o" -I"$dsrc"
	bin=$tmp/$a/bin
	# shellcheck disable=SC2046
	dlink "$a" $APP_MINOS "$bin/UTM" -rpath @executable_path/../Frameworks \
		-F "$tmp/$a/Frameworks" $(for m in $UTM_LINKS; do echo "-framework $m"; done) "$o/utm.o"
	dlink "$a" $APP_MINOS "$bin/utmctl" "$o/utmctl.o" "$o/info_plist.o"
	dlink "$a" $APP_MINOS "$bin/QEMUHelper" -rpath @executable_path/../../../../Frameworks "$o/helper.o"
	dlink "$a" $APP_MINOS "$bin/QEMULauncher" \
		-rpath @executable_path/../../../../../../../Frameworks "$o/launcher.o"
}

# 1-3. The architectures are independent: build them side by side.
pids=""
for a in $ARCHS; do
	build_arch "$a" &
	pids="$pids $!"
done
failed=0
for p in $pids; do
	wait "$p" || failed=1
done
[ $failed = 0 ] || { echo "build-demo: building the per-architecture parts failed" >&2; exit 1; }

# 4. Pack: the static files, then every Mach-O merged across architectures.
app=$tmp/UTM.app
c=$app/Contents
mkdir -p "$app"
cp -R "$demo/bundle/Contents" "$app/"
# A stand-in for the icon actool writes: an empty 'icns' container (8 bytes).
printf 'icns\000\000\000\010' >"$c/Resources/AppIcon.icns"

merge() {
	# shellcheck disable=SC2046
	"$LIPO" -create $(for a in $ARCHS; do echo "$tmp/$a/$1"; done) -output "$2"
}
helper=$c/XPCServices/QEMUHelper.xpc/Contents
launcher=$helper/MacOS/QEMULauncher.app/Contents
mkdir -p "$c/MacOS" "$helper/MacOS" "$launcher/MacOS" "$c/Frameworks"
merge bin/UTM "$c/MacOS/UTM"
merge bin/utmctl "$c/MacOS/utmctl"
merge bin/QEMUHelper "$helper/MacOS/QEMUHelper"
merge bin/QEMULauncher "$launcher/MacOS/QEMULauncher"

names=$(echo "$LIBS" | cut -d: -f1)
for t in $QEMU_TARGETS; do
	names="$names qemu-$t-softmmu"
done
for n in $names; do
	fw=$c/Frameworks/$n.framework
	mkdir -p "$fw/Versions/A/Resources"
	merge "Frameworks/$n.framework/Versions/A/$n" "$fw/Versions/A/$n"
	# pack_dependencies.sh takes the Info.plist from one architecture (they are identical).
	cp "$tmp/arm64/Frameworks/$n.framework/Versions/A/Resources/Info.plist" "$fw/Versions/A/Resources/"
	framework_links "$fw" "$n"
done

# Fixed modes, whatever the umask or the checkout did.
find "$app" -type d -exec chmod 0755 {} +
find "$app" -type f -exec chmod 0644 {} +
chmod 0755 "$c/MacOS/UTM" "$c/MacOS/utmctl" "$helper/MacOS/QEMUHelper" "$launcher/MacOS/QEMULauncher"
for n in $names; do
	chmod 0755 "$c/Frameworks/$n.framework/Versions/A/$n"
done

# 5. Signing.
sign_bundle "$app"

rm -rf "$out/UTM.app"
mv "$app" "$out/UTM.app"
