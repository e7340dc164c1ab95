/* bundle.c - a loadable bundle (MH_BUNDLE). */
int puts(const char *s);

int bundle_entry(void)
{
	return puts("utmpatch fixture bundle");
}
