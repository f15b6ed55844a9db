/* SPDX-License-Identifier: GPL-2.0 */
/*
 * modegate tool: declarations shared by its subcommands.
 */
#ifndef _MGTOOL_H
#define _MGTOOL_H

#include <stdbool.h>
#include <linux/modegate.h>

#define MG_DEV "/dev/" MODEGATE_DEVICE_NAME

/* Exit codes (documented in --help). */
#define MG_EXIT_OK	0	/* done, every claim held */
#define MG_EXIT_FAIL	1	/* a claim did not hold, or an operation failed */
#define MG_EXIT_USAGE	2	/* bad command line */
#define MG_EXIT_NODEV	3	/* device missing or not accessible */

struct mg_cmd {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

extern bool mg_json;

int mg_open_dev(int flags);
int cmd_info(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_unload(int argc, char **argv);

#endif /* _MGTOOL_H */
