/* test_err.c - the recorded error message: a new message may quote the current one. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "ut_err.h"

Test(err, a_message_may_quote_the_recorded_one)
{
	ut_fail(UT_EMALFORMED, "inner problem at offset %d", 12);
	cr_assert_eq(ut_fail(UT_EVERIFY, "outer: %s", ut_errmsg()), UT_EVERIFY);
	cr_expect_str_eq(ut_errmsg(), "outer: inner problem at offset 12");
	ut_fail_errno(UT_EIO, ENOENT, "again: %s", ut_errmsg());
	cr_expect_str_eq(ut_errmsg(), "again: outer: inner problem at offset 12: No such file or directory");
	ut_ctx(UT_EIO, "'%s'", "file");
	cr_expect_str_eq(ut_errmsg(), "'file': again: outer: inner problem at offset 12: No such file or directory");
}
