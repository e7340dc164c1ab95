/*
 * utm.c - stand-in for UTM.app/Contents/MacOS/UTM.  Like the real app it links
 * a few of the embedded frameworks directly (spice-server, glib, pixman,
 * slirp); the QEMU frameworks are never linked, only checked for existence
 * and handed to the XPC helper.
 */
int puts(const char *s);

int spice_server_new(int);
int g_main_context_default(int);
int pixman_image_create_bits(int);
int slirp_new(int);

int main(int argc, char **argv)
{
	(void)argv;
	int x = spice_server_new(argc);
	x = g_main_context_default(x);
	x = pixman_image_create_bits(x);
	x = slirp_new(x);
	puts("UTM (utmpatch demo stand-in)");
	return x == 0;
}
