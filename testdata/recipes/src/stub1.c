/*
 * stub1.c - a stand-in dependency with a single export, STUB_F1.
 * build-loadres.sh uses it for a library that lacks a symbol its clients
 * import (pixman without pixman_image_unref) and for an umbrella library.
 */
#ifndef STUB_F1
#error "define STUB_F1"
#endif

int STUB_F1(int x)
{
	return x + 1;
}
