/*
 * deps.c - a dylib that imports one function from each of the 14 stub
 * dependencies (QEMU's usual set) so that lld records all of them.
 * The stubs are stand-ins: every function is "int f(int)".
 */
int pixman_image_create_bits(int);
int g_main_context_default(int);
int g_file_new_for_path(int);
int g_object_ref(int);
int libintl_gettext(int);
int libiconv_open(int);
int jpeg_CreateCompress(int);
int png_create_write_struct(int);
int slirp_new(int);
int spice_server_new(int);
int epoxy_has_gl_extension(int);
int ZSTD_compress(int);
int g_module_open(int);
int libusb_init(int) __attribute__((weak_import));

int deps_touch_all(int x)
{
	x = pixman_image_create_bits(x);
	x = g_main_context_default(x);
	x = g_file_new_for_path(x);
	x = g_object_ref(x);
	x = libintl_gettext(x);
	x = libiconv_open(x);
	x = jpeg_CreateCompress(x);
	x = png_create_write_struct(x);
	x = slirp_new(x);
	x = spice_server_new(x);
	x = epoxy_has_gl_extension(x);
	x = ZSTD_compress(x);
	x = g_module_open(x);
	if (libusb_init)
		x = libusb_init(x);
	return x;
}
