/*
 * big.S - bulk for build-big.sh: a pseudo-random blob (blob.bin, found via -I)
 * in __TEXT,__const, so every page of it is covered by the code signature.
 */
	.section __TEXT,__const
	.globl _qemu_big_blob
	.p2align 4
_qemu_big_blob:
	.incbin "blob.bin"
