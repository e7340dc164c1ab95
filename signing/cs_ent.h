/*
 * cs_ent.h - entitlements blobs: XML (slot 5, 0xfade7171) and DER (slot 7, 0xfade7172).
 *
 * Apple's DER form (XNU CoreEntitlements; matches codesign output byte for byte):
 *   70 LL  02 01 01  B0 LL { 30 LL { 0C LL <key>  <value> } ... }
 * keys sorted by byte order; bool 01 01 FF / 01 01 00; integer 02 minimal two's
 * complement; string 0C UTF8String; array 30 SEQUENCE of values; dict B0.
 * Data, date, real, uid and null values have no known Apple encoding and are
 * refused (UT_EUNSUPPORTED).  Integers are limited to the int64 range.
 *
 * Decoding accepts that form and the older one (macOS 12-era codesign) whose
 * payload is a bare SET (31 LL) of the same SEQUENCE entries; dictionaries may
 * be B0 or 31 at any depth.  Nesting is limited to CS_DER_MAX_DEPTH.
 *
 * plist_t nodes follow libplist ownership: *out belongs to the caller (plist_free).
 */
#ifndef CS_ENT_H
#define CS_ENT_H

#include <stddef.h>
#include <stdint.h>

#include "ut_buf.h"
#include "ut_plist.h"

/* Appends the XML entitlements blob: magic, length, payload bytes exactly as given. */
int cs_ent_xml_blob(struct ut_buf *out, const void *xml, size_t len);
/* Parses the plist inside an XML entitlements blob (blob[0, len), header included). */
int cs_ent_xml_blob_parse(const uint8_t *blob, size_t len, plist_t *out);

/* Appends Apple's DER encoding of dict (the payload, no blob header). */
int cs_ent_der_encode(plist_t dict, struct ut_buf *out);
/* Appends the DER entitlements blob (0xfade7172 + length + DER). */
int cs_ent_der_blob(plist_t dict, struct ut_buf *out);
/* Parses XML or binary plist bytes (an entitlements file) and appends the DER blob. */
int cs_ent_der_blob_from_plist(const void *plist, size_t len, struct ut_buf *out);

enum cs_ent_der_form {
	CS_ENT_DER_APPLE = 1, /* 70 { 02 01 01, B0 {...} } */
	CS_ENT_DER_SET = 2,   /* 31 {...} (older codesign) */
};

/* Decodes a DER payload (either form) into a new dictionary; form (may be NULL) says which. */
int cs_ent_der_decode(const uint8_t *der, size_t len, plist_t *out, enum cs_ent_der_form *form);
/* Same for a whole DER entitlements blob (header included). */
int cs_ent_der_blob_decode(const uint8_t *blob, size_t len, plist_t *out, enum cs_ent_der_form *form);

/*
 * Executable-segment flags implied by entitlements (SEC signer.cpp
 * cookEntitlements; boolean true only): get-task-allow and run-unsigned-code
 * -> ALLOW_UNSIGNED, com.apple.private.cs.debugger -> DEBUGGER,
 * dynamic-codesigning -> JIT, com.apple.private.skip-library-validation ->
 * SKIP_LV, com.apple.private.amfi.can-load-cdhash -> CAN_LOAD_CDHASH,
 * com.apple.private.amfi.can-execute-cdhash -> CAN_EXEC_CDHASH.
 */
uint64_t cs_ent_exec_seg_flags(plist_t dict);

#endif
