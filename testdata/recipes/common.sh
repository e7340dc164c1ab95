# common.sh - shared by build-fixtures.sh and build-big.sh (sourced, POSIX sh).
# shellcheck shell=sh disable=SC2154
# Needs: $recipes (this directory).  Defines the tool names and small helpers.
# Every step is deterministic: no timestamps, no paths of the build machine end
# up in the outputs (ld64.lld-14 derives LC_UUID from the output contents, and
# the linker signature's identifier from the output file's basename).

src="$recipes/src"

# pick TOOL CANDIDATE... - first candidate on PATH (Debian names first, then Homebrew's)
pick() {
	for c in "$@"; do
		if command -v "$c" >/dev/null 2>&1; then
			echo "$c"
			return 0
		fi
	done
	return 1
}

CLANG=${CLANG:-$(pick clang-14 clang)} || { echo "fixtures: clang-14 not found" >&2; exit 1; }
LLD=${LLD:-$(pick ld64.lld-14 ld64.lld)} || { echo "fixtures: ld64.lld-14 not found" >&2; exit 1; }
LIPO=${LIPO:-$(pick llvm-lipo-14 llvm-lipo)} || { echo "fixtures: llvm-lipo-14 not found" >&2; exit 1; }
PYTHON=${PYTHON:-$(pick python3)} || { echo "fixtures: python3 not found" >&2; exit 1; }

# The 14 stand-in dependencies: lib<name>.dylib and the two functions each exports.
STUBS="pixman-1.0:pixman_image_create_bits:pixman_image_unref
glib-2.0.0:g_main_context_default:g_free
gio-2.0.0:g_file_new_for_path:g_resource_load
gobject-2.0.0:g_object_ref:g_object_unref
intl.8:libintl_gettext:libintl_textdomain
iconv.2:libiconv_open:libiconv
jpeg.62:jpeg_CreateCompress:jpeg_finish_compress
png16.16:png_create_write_struct:png_write_info
slirp.0:slirp_new:slirp_input
spice-server.1:spice_server_new:spice_server_init
epoxy.0:epoxy_has_gl_extension:epoxy_gl_version
zstd.1:ZSTD_compress:ZSTD_decompress
gmodule-2.0.0:g_module_open:g_module_symbol
usb-1.0.0:libusb_init:libusb_exit"

# sysroot ARCH - the absolute library directory of a user's UTM sysroot build
sysroot() {
	echo "/Users/x/UTM/sysroot-macOS-$1/lib"
}

# cc ARCH SRC OBJ [FLAGS...]
cc() {
	_arch=$1 _src=$2 _obj=$3
	shift 3
	"$CLANG" -target "$_arch-apple-macos11" -O2 -fno-stack-protector -c "$_src" -o "$_obj" "$@"
}

# link ARCH OUT [LD FLAGS AND INPUTS...] - libSystem is always linked last
link() {
	_arch=$1 _out=$2
	shift 2
	"$LLD" -arch "$_arch" -platform_version macos 11.0 12.0 -o "$_out" "$@" "$src/libSystem.tbd"
}

# build_stubs ARCH OBJDIR OUTDIR - OUTDIR/lib<name>.dylib for every stub
build_stubs() {
	_a=$1 _objs=$2 _dir=$3
	mkdir -p "$_objs" "$_dir"
	echo "$STUBS" | while IFS=: read -r name f1 f2; do
		cc "$_a" "$src/stub.c" "$_objs/stub-$name.o" -DSTUB_F1="$f1" -DSTUB_F2="$f2"
		link "$_a" "$_dir/lib$name.dylib" -dylib \
			-install_name "$(sysroot "$_a")/lib$name.dylib" \
			-current_version 1.0.0 -compatibility_version 1.0.0 "$_objs/stub-$name.o"
	done
}

# stub_paths DIR [SKIP...] - the stub dylib paths in STUBS order, minus SKIP names
stub_paths() {
	_dir=$1
	shift
	echo "$STUBS" | while IFS=: read -r name f1 f2; do
		_skip=0
		for s in "$@"; do
			[ "$s" = "$name" ] && _skip=1
		done
		[ $_skip = 1 ] || printf '%s\n' "$_dir/lib$name.dylib"
	done
}
