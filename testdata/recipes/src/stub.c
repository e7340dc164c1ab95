/*
 * stub.c - one stand-in dependency dylib.  build-fixtures.sh compiles it once
 * per library with -DSTUB_F1=<name> -DSTUB_F2=<name> (the functions deps.c and
 * qemu.c import from that library).
 */
#ifndef STUB_F1
#error "define STUB_F1 and STUB_F2"
#endif

int STUB_F1(int x)
{
	return x + 1;
}

int STUB_F2(int x)
{
	return x * 2;
}
