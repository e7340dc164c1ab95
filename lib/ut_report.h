/*
 * ut_report.h - an install or restore plan (and its result) as text or as
 * JSON (docs/schemas/install.schema.json), written into a buffer; cmd/
 * prints it.  Problems are not part of the text form (cmd/ prints them to
 * stderr with ut_report_problems_text); they are part of the JSON.
 */
#ifndef UT_REPORT_H
#define UT_REPORT_H

#include "ut_buf.h"
#include "ut_install.h"

/* The result word of the JSON form. */
enum ut_report_result {
	UT_RESULT_PLANNED = 1,   /* dry run: nothing changed */
	UT_RESULT_APPLIED,       /* committed */
	UT_RESULT_NOTHING,       /* nothing to change */
	UT_RESULT_REFUSED,       /* problems: nothing changed */
	UT_RESULT_FAILED,        /* an error (error holds the message) */
};

/* The plan and result as text (one section per step, as `install --dry-run` prints it). */
int ut_report_install_text(struct ut_buf *out, const struct ut_install *in, enum ut_report_result res);
/* The problems, one "kind [arch]: subject: detail" line each, then indented missing symbols. */
int ut_report_problems_text(struct ut_buf *out, const struct ut_install *in);
/* The JSON object (pretty), command "install" or "entitlements". error may be NULL. */
int ut_report_install_json(struct ut_buf *out, const struct ut_install *in, enum ut_report_result res,
			   const char *error);
/* The same object's members, written into an open JSON object (for embedding). */
struct ut_json;
void ut_report_install_members(struct ut_json *j, const struct ut_install *in, enum ut_report_result res,
			       const char *error);

/* "planned", "installed", "nothing to do", "refused", "failed". */
const char *ut_report_result_name(enum ut_report_result r);

#endif
