/*
 * qemu.c - a stand-in for a user's custom QEMU build (libqemu-*-softmmu.dylib):
 * the qemu_* entry points UTM calls, importing from the usual dependencies.
 */
typedef unsigned long size_t;
void *malloc(size_t n);
void free(void *p);
void *memset(void *p, int c, size_t n);

int pixman_image_create_bits(int);
int pixman_image_unref(int);
int g_main_context_default(int);
int g_free(int);
int g_file_new_for_path(int);
int g_object_unref(int);
int libintl_textdomain(int);
int libiconv(int);
int jpeg_finish_compress(int);
int png_write_info(int);
int slirp_input(int);
int spice_server_init(int);
int epoxy_gl_version(int);
int ZSTD_decompress(int);
int g_module_symbol(int);
int libusb_exit(int);

static void *qemu_state;
static int qemu_exit_requested;

int qemu_init(int argc, char **argv, char **envp)
{
	(void)argv;
	(void)envp;
	qemu_state = malloc(64);
	if (!qemu_state)
		return -1;
	memset(qemu_state, 0, 64);
	argc = g_main_context_default(argc);
	argc = g_module_symbol(argc);
	argc = libintl_textdomain(argc);
	argc = libiconv(argc);
	argc = spice_server_init(argc);
	argc = slirp_input(argc);
	return epoxy_gl_version(argc);
}

int qemu_main_loop(void)
{
	int n = 0;
	while (!qemu_exit_requested) {
		n = pixman_image_create_bits(n);
		n = jpeg_finish_compress(n);
		n = png_write_info(n);
		n = ZSTD_decompress(n);
		n = g_file_new_for_path(n);
		if (n > 1000)
			break;
	}
	return n;
}

void qemu_cleanup(void)
{
	pixman_image_unref(0);
	g_object_unref(0);
	libusb_exit(0);
	g_free(0);
	free(qemu_state);
	qemu_state = 0;
}

void qemu_system_shutdown_request(int reason)
{
	(void)reason;
	qemu_exit_requested = 1;
}

void qemu_system_reset_request(int reason)
{
	(void)reason;
	qemu_exit_requested = 0;
}

const char *qemu_get_version(void)
{
	return "utmpatch-fixture 8.2.0";
}
