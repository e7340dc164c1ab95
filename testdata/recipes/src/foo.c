/* foo.c - the "sysroot" dylib (libfoo.1.dylib): a few exports, one import. */
typedef unsigned long size_t;
size_t strlen(const char *s);

static int foo_counter;

int foo_add(int a, int b)
{
	return a + b;
}

int foo_count(void)
{
	return ++foo_counter;
}

size_t foo_len(const char *s)
{
	return strlen(s);
}
