/*
 * cs_format.h - code-signing format constants, with Apple's names.
 *
 * Sources (facts of the format; no Apple header is included):
 *   XNU  osfmk/kern/cs_blobs.h        magics, slots, versions, CS_* flags,
 *                                     hash types, exec-segment flags
 *   SEC  libsecurity_codesigning      codedirectory.h (version limits,
 *        CSCommon.h, requirement.h    cdSlotMax), kSecCodeSignatureHost,
 *                                     requirement types, expression opcodes
 * Every integer in a code-signing blob is big-endian.
 */
#ifndef CS_FORMAT_H
#define CS_FORMAT_H

/* Blob magics (XNU). */
#define CSMAGIC_REQUIREMENT                0xfade0c00u /* single Requirement */
#define CSMAGIC_REQUIREMENTS               0xfade0c01u /* Requirements set (SuperBlob) */
#define CSMAGIC_CODEDIRECTORY              0xfade0c02u
#define CSMAGIC_EMBEDDED_SIGNATURE         0xfade0cc0u /* embedded signature SuperBlob */
#define CSMAGIC_EMBEDDED_SIGNATURE_OLD     0xfade0b02u
#define CSMAGIC_EMBEDDED_ENTITLEMENTS      0xfade7171u /* XML plist payload */
#define CSMAGIC_EMBEDDED_DER_ENTITLEMENTS  0xfade7172u
#define CSMAGIC_DETACHED_SIGNATURE         0xfade0cc1u
#define CSMAGIC_BLOBWRAPPER                0xfade0b01u /* CMS signature */
#define CSMAGIC_EMBEDDED_LAUNCH_CONSTRAINT 0xfade8181u

/* CodeDirectory versions (XNU; earliest/compatibility/current from SEC codedirectory.h). */
#define CS_SUPPORTSSCATTER     0x20100u
#define CS_SUPPORTSTEAMID      0x20200u
#define CS_SUPPORTSCODELIMIT64 0x20300u
#define CS_SUPPORTSEXECSEG     0x20400u
#define CS_SUPPORTSRUNTIME     0x20500u
#define CS_SUPPORTSLINKAGE     0x20600u
#define CS_CD_EARLIEST_VERSION 0x20001u /* SEC earliestVersion */
#define CS_CD_COMPAT_LIMIT     0x2F000u /* SEC compatibilityLimit */
#define CS_CD_CURRENT_VERSION  0x20500u /* SEC currentVersion (what codesign writes at most) */

/* Slots (XNU).  1..11 are also CodeDirectory special slots (stored at -slot). */
#define CSSLOT_CODEDIRECTORY                 0u
#define CSSLOT_INFOSLOT                      1u
#define CSSLOT_REQUIREMENTS                  2u
#define CSSLOT_RESOURCEDIR                   3u
#define CSSLOT_APPLICATION                   4u
#define CSSLOT_ENTITLEMENTS                  5u
#define CSSLOT_REP_SPECIFIC                  6u /* SEC cdRepSpecificSlot */
#define CSSLOT_DER_ENTITLEMENTS              7u
#define CSSLOT_LAUNCH_CONSTRAINT_SELF        8u
#define CSSLOT_LAUNCH_CONSTRAINT_PARENT      9u
#define CSSLOT_LAUNCH_CONSTRAINT_RESPONSIBLE 10u
#define CSSLOT_LIBRARY_CONSTRAINT            11u
#define CS_SPECIAL_SLOT_MAX                  11u /* SEC cdSlotMax */
#define CSSLOT_ALTERNATE_CODEDIRECTORIES     0x1000u
#define CSSLOT_ALTERNATE_CODEDIRECTORY_MAX   5u
#define CSSLOT_ALTERNATE_CODEDIRECTORY_LIMIT (CSSLOT_ALTERNATE_CODEDIRECTORIES + CSSLOT_ALTERNATE_CODEDIRECTORY_MAX)
#define CSSLOT_SIGNATURESLOT                 0x10000u
#define CSSLOT_IDENTIFICATIONSLOT            0x10001u
#define CSSLOT_TICKETSLOT                    0x10002u

/* CodeDirectory flags (XNU CS_*; 0x1 is SEC kSecCodeSignatureHost). */
#define kSecCodeSignatureHost 0x00000001u
#define CS_ADHOC              0x00000002u
#define CS_HARD               0x00000100u
#define CS_KILL               0x00000200u
#define CS_CHECK_EXPIRATION   0x00000400u
#define CS_RESTRICT           0x00000800u
#define CS_ENFORCEMENT        0x00001000u
#define CS_REQUIRE_LV         0x00002000u
#define CS_RUNTIME            0x00010000u
#define CS_LINKER_SIGNED      0x00020000u
#define CS_ALLOWED_MACHO \
	(CS_ADHOC | CS_HARD | CS_KILL | CS_CHECK_EXPIRATION | CS_RESTRICT | CS_ENFORCEMENT | CS_REQUIRE_LV | \
	 CS_RUNTIME | CS_LINKER_SIGNED)

/* Executable segment flags (XNU). */
#define CS_EXECSEG_MAIN_BINARY     0x1u
#define CS_EXECSEG_ALLOW_UNSIGNED  0x10u
#define CS_EXECSEG_DEBUGGER        0x20u
#define CS_EXECSEG_JIT             0x40u
#define CS_EXECSEG_SKIP_LV         0x80u
#define CS_EXECSEG_CAN_LOAD_CDHASH 0x100u
#define CS_EXECSEG_CAN_EXEC_CDHASH 0x200u

/* Hash types and sizes (XNU; SHA-512 is SEC kSecCodeSignatureHashSHA512, not supported). */
#define CS_HASHTYPE_SHA1             1u
#define CS_HASHTYPE_SHA256           2u
#define CS_HASHTYPE_SHA256_TRUNCATED 3u
#define CS_HASHTYPE_SHA384           4u
#define CS_SHA1_LEN                  20u
#define CS_SHA256_LEN                32u
#define CS_SHA256_TRUNCATED_LEN      20u
#define CS_SHA384_LEN                48u
#define CS_CDHASH_LEN                20u /* cdhashes are truncated to this */
#define CS_HASH_MAX_SIZE             48u

/* Fixed CodeDirectory header sizes by version (XNU CS_CodeDirectory end_* markers). */
#define CS_CD_SIZE_EARLIEST    44u
#define CS_CD_SIZE_SCATTER     48u
#define CS_CD_SIZE_TEAM        52u
#define CS_CD_SIZE_CODELIMIT64 64u
#define CS_CD_SIZE_EXECSEG     88u
#define CS_CD_SIZE_RUNTIME     96u
#define CS_CD_SIZE_LINKAGE     108u

#define CS_BLOB_HEADER_SIZE      8u  /* magic, length */
#define CS_SUPERBLOB_HEADER_SIZE 12u /* magic, length, count */
#define CS_BLOB_INDEX_SIZE       8u  /* type, offset */
#define CS_SCATTER_SIZE          24u /* SC_Scatter: count, base, targetOffset, spare */

/* Requirement types (SEC CSCommon.h SecRequirementType). */
#define kSecHostRequirementType       1u
#define kSecGuestRequirementType      2u
#define kSecDesignatedRequirementType 3u
#define kSecLibraryRequirementType    4u
#define kSecPluginRequirementType     5u
#define kSecRequirementTypeCount      6u

/* Requirement kinds (SEC requirement.h Requirement::Kind). */
#define CS_REQ_EXPR_FORM 1u /* exprForm */
#define CS_REQ_LWCR_FORM 2u /* lwcrForm */

/* Requirement expression opcodes (SEC requirement.h ExprOp, MatchOperation). */
enum cs_req_op {
	opFalse = 0, opTrue, opIdent, opAppleAnchor, opAnchorHash, opInfoKeyValue, opAnd, opOr, opCDHash, opNot,
	opInfoKeyField, opCertField, opTrustedCert, opTrustedCerts, opCertGeneric, opAppleGenericAnchor,
	opEntitlementField, opCertPolicy, opNamedAnchor, opNamedCode, opPlatform, opNotarized, opCertFieldDate,
	opLegacyDevID, exprOpCount
};
#define opFlagMask     0xFF000000u
#define opGenericFalse 0x80000000u /* has a size field; unknown means false */
#define opGenericSkip  0x40000000u /* has a size field; unknown is skipped */

enum cs_req_match {
	matchExists = 0, matchEqual, matchContains, matchBeginsWith, matchEndsWith, matchLessThan, matchGreaterThan,
	matchLessEqual, matchGreaterEqual, matchOn, matchBefore, matchAfter, matchOnOrBefore, matchOnOrAfter,
	matchAbsent
};

/* Certificate positions in a requirement (SEC Requirement::leafCert / anchorCert). */
#define CS_REQ_LEAF_CERT   0
#define CS_REQ_ANCHOR_CERT (-1)

#endif
