/* test_macho_json.c - `macho info --json` validates against docs/schemas/macho-info.schema.json for every fixture and corpus file. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "tsupport.h"

static void check(const char *file)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd),
		 "'%s' macho info '%s' --json | /usr/bin/python3 -c 'import json,sys,jsonschema; "
		 "s=json.load(open(sys.argv[1])); d=json.load(sys.stdin); "
		 "jsonschema.validate(d, s, cls=jsonschema.Draft202012Validator)' '%s'",
		 ts_bin(), file, ts_root("docs/schemas/macho-info.schema.json"));
	char *err = NULL;
	int rc = ts_sh(cmd, NULL, &err);
	cr_assert_eq(rc, 0, "%s: schema validation failed: %s", file, err);
	free(err);
}

Test(macho_json, output_matches_documented_schema, .timeout = 120)
{
	static const char *const fixtures[] = { "arm64-exe", "x86_64-exe", "fat-dylib", "arm64-deps", "arm64-lazy",
						"fat3-exe", NULL };
	for (int i = 0; fixtures[i]; i++)
		check(ts_fixture(fixtures[i]));
	static const char *const corpus[] = { "apple/fatmach0-3true", "unsigned/ppc-ls", "devid/libexpat.1.dylib",
					      "odd/TestMethods-empty-codesig", "apple/ls-sequoia", NULL };
	for (int i = 0; corpus[i]; i++)
		check(ts_corpus(corpus[i]));
	check(ts_root("testdata/malformed/fat-hidden-arm64"));
}
