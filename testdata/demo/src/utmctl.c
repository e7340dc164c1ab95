/*
 * utmctl.c - stand-in for UTM.app/Contents/MacOS/utmctl, the command-line
 * tool.  Xcode builds it with CREATE_INFOPLIST_SECTION_IN_BINARY = YES, so its
 * Info.plist lives in the __TEXT,__info_plist section (info_plist.S).
 */
int puts(const char *s);

int main(int argc, char **argv)
{
	(void)argv;
	puts(argc > 1 ? "utmctl: the demo bundle has no VMs" : "usage: utmctl <subcommand>");
	return argc > 1;
}
