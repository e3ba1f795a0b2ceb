/* SPDX-License-Identifier: MIT */
/* cmd_lmtpd - "bav lmtpd" (being written) */
#include "deliver.h"

int cmd_lmtpd(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("bav lmtpd: not yet\n", stderr);
	return CMD_EX_USAGE;
}
