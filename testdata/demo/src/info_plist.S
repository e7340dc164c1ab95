/*
 * info_plist.S - embeds utmctl's Info.plist (found via -I) in
 * __TEXT,__info_plist, where Xcode puts it for command-line tools and where
 * codesign reads the identifier of a bundle-less executable.
 */
	.section __TEXT,__info_plist
	.incbin "utmctl-Info.plist"
