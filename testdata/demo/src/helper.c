/*
 * helper.c - stand-in for QEMUHelper.xpc/Contents/MacOS/QEMUHelper, the XPC
 * service that starts QEMULauncher.app for each VM.  Links no UTM framework.
 */
int puts(const char *s);

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	puts("QEMUHelper (utmpatch demo stand-in)");
	return 0;
}
