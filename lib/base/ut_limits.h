/* ut_limits.h - every size ceiling in one place. */
#ifndef UT_LIMITS_H
#define UT_LIMITS_H

#define UT_MAX_INPUT_SIZE   ((uint64_t)8 << 30) /* 8 GiB: largest file we open */
#define UT_MAX_SLICES       64                  /* fat_arch entries */
#define UT_MAX_LOAD_CMDS    8192                /* ncmds */
#define UT_MAX_SIZEOFCMDS   (16u << 20)         /* load command area */
#define UT_MAX_SECTIONS     4096                /* sections in one slice */
#define UT_MAX_BLOBS        64                  /* SuperBlob index entries */
#define UT_MAX_SIG_SIZE     (64u << 20)         /* one embedded signature */
#define UT_MAX_PLIST_SIZE   (16u << 20)         /* Info.plist, entitlements, CodeResources */
#define UT_MAX_PATH_STR     4096                /* install names, rpaths */
#define UT_MAX_EDITS        1024                /* edits in one plan */
#define UT_MAX_BUF          ((size_t)1 << 31)   /* default ceiling of a ut_buf */

#endif
