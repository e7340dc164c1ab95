/* main.c - the fixture executable (arm64-exe, x86_64-exe, arm64e-exe). */
int puts(const char *s);

int main(int argc, char **argv)
{
	(void)argv;
	puts(argc > 1 ? "utmpatch fixture: args" : "utmpatch fixture");
	return 0;
}
