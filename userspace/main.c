// SPDX-License-Identifier: GPL-2.0
/*
 * modegate - user-space tool for /dev/modegate.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mgtool.h"

bool mg_json;

static const struct mg_cmd mg_cmds[] = {
	{ "info", "show the mode evidence and limits of the device", cmd_info },
	{ "load", "load the module (load [param=value...])", cmd_load },
	{ "unload", "unload the module", cmd_unload },
};

int mg_open_dev(int flags)
{
	int fd = open(MG_DEV, flags);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT)
		fprintf(stderr, "modegate: %s: %s: is the module loaded? (modegate load)\n",
			MG_DEV, strerror(errno));
	else if (errno == EACCES)
		fprintf(stderr, "modegate: %s: %s: the node is mode 0600 by default; run as root or load with node_mode=0666\n",
			MG_DEV, strerror(errno));
	else
		fprintf(stderr, "modegate: %s: %s\n", MG_DEV, strerror(errno));
	return -1;
}

static void usage(FILE *f)
{
	unsigned int i;

	fprintf(f, "usage: modegate [--json] COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < sizeof(mg_cmds) / sizeof(mg_cmds[0]); i++)
		fprintf(f, "  %-8s %s\n", mg_cmds[i].name, mg_cmds[i].summary);
	fprintf(f, "\nexit codes: 0 ok, 1 failed, 2 usage, 3 device missing or not accessible\n");
}

int main(int argc, char **argv)
{
	unsigned int i;

	while (argc > 1 && argv[1][0] == '-') {
		if (!strcmp(argv[1], "--json")) {
			mg_json = true;
		} else if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
			usage(stdout);
			return MG_EXIT_OK;
		} else {
			usage(stderr);
			return MG_EXIT_USAGE;
		}
		argc--;
		argv++;
	}
	if (argc < 2) {
		usage(stderr);
		return MG_EXIT_USAGE;
	}
	for (i = 0; i < sizeof(mg_cmds) / sizeof(mg_cmds[0]); i++)
		if (!strcmp(argv[1], mg_cmds[i].name))
			return mg_cmds[i].run(argc - 1, argv + 1);
	fprintf(stderr, "modegate: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return MG_EXIT_USAGE;
}
