/*
 * framework.c - one stand-in dependency library of UTM's sysroot (glib,
 * pixman, spice-server, ...), later turned into a framework by build-demo.sh.
 *
 * Compiled once per library with
 *   -DDEMO_F1=<name> -DDEMO_F2=<name>      the two functions it exports
 *                                          (the names qemu.c and utm.c import)
 *   -DDEMO_IMPORTS='X(f) X(g) ...'         one function from each library it
 *                                          depends on (may be left undefined)
 * so that every dependency edge is a real symbol import that dyld must bind.
 */
#ifndef DEMO_F1
#error "define DEMO_F1 and DEMO_F2"
#endif
#ifndef DEMO_IMPORTS
#define DEMO_IMPORTS
#endif

#define X(f) int f(int);
DEMO_IMPORTS
#undef X

int DEMO_F1(int x)
{
#define X(f) x = f(x);
	DEMO_IMPORTS
#undef X
	return x + 1;
}

int DEMO_F2(int x)
{
	return x * 2;
}
