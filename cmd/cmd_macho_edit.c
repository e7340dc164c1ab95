/* cmd_macho_edit.c - `utmpatch macho edit` (the editor lands in the next commit). */
#include "cmd.h"

int cmd_macho_edit(int argc, char **argv, const char *usage_text);

int cmd_macho_edit(int argc, char **argv, const char *usage_text)
{
	(void)argc;
	(void)argv;
	return cmd_usage_error(usage_text, "macho edit: not available in this build yet");
}
