// SPDX-License-Identifier: GPL-2.0
/*
 * modegate - the user-space tool for /dev/modegate.
 *
 * main() takes the global options and dispatches through mg_cmds[]; each
 * command lives in its own file and prints through the output layer
 * (out.c), so that every command has --help and --json.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgtool.h"

static const struct mg_cmd *const mg_cmds[] = {
	&mg_cmd_load, &mg_cmd_unload, &mg_cmd_info, &mg_cmd_probe, &mg_cmd_vaspace,
	&mg_cmd_async, &mg_cmd_trace, &mg_cmd_stats, &mg_cmd_tour, &mg_cmd_bench,
};

static const char mg_exit_codes[] =
	"exit codes: 0 ok; 1 an operation failed or a claim did not hold;\n"
	"            2 bad usage; 3 " MG_DEV " missing or not accessible\n";

static void usage(FILE *f)
{
	unsigned int i;

	fprintf(f, "usage: modegate [--json] [--no-color] COMMAND [ARGS]\n"
		"       modegate COMMAND --help\n"
		"       modegate --version\n\n"
		"The user/kernel mode boundary made concrete, through " MG_DEV ".\n\n"
		"commands:\n");
	for (i = 0; i < MG_ARRAY_SIZE(mg_cmds); i++)
		fprintf(f, "  %-8s %s\n", mg_cmds[i]->name, mg_cmds[i]->summary);
	fprintf(f, "\noptions:\n"
		"  --json      print one JSON object instead of text\n"
		"  --no-color  no colour (also: NO_COLOR set, or not a terminal)\n"
		"  --version   the tool's version\n\n%s",
		mg_exit_codes);
}

void mg_help(const struct mg_cmd *cmd, bool to_stderr)
{
	FILE *f = to_stderr ? stderr : stdout;

	fprintf(f, "usage: modegate [--json] %s%s%s\n\n%s.\n", cmd->name,
		*cmd->args ? " " : "", cmd->args, cmd->summary);
	if (cmd->help && *cmd->help)
		fprintf(f, "\n%s", cmd->help);
	fprintf(f, "\n  --json     print one JSON object\n  --help     this text\n\n%s",
		mg_exit_codes);
}

int mg_usage_error(const struct mg_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "modegate %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'modegate %s --help'.\n", cmd->name);
	return MG_EXIT_USAGE;
}

/*
 * getopt_long() for a command, with --help and --json added: --help prints
 * the command's help and exits 0, an unknown option exits 2.
 */
int mg_getopt(int argc, char **argv, const struct mg_cmd *cmd, const char *shortopts,
	      const struct option *longopts)
{
	static struct option all[32];
	static const struct mg_cmd *built;
	char opts[64];
	int n = 0, c;

	if (built != cmd) {
		for (; longopts && longopts[n].name && n < 29; n++)
			all[n] = longopts[n];
		all[n++] = (struct option){ "help", no_argument, NULL, 'h' };
		all[n++] = (struct option){ "json", no_argument, NULL, 0x100 };
		all[n] = (struct option){ NULL, 0, NULL, 0 };
		built = cmd;
	}
	snprintf(opts, sizeof(opts), "h%s", shortopts ? shortopts : "");
	opterr = 0;
	for (;;) {
		c = getopt_long(argc, argv, opts, all, NULL);
		if (c == 'h') {
			mg_help(cmd, false);
			exit(MG_EXIT_OK);
		}
		if (c == 0x100) {
			mg_json = true;
			continue;
		}
		if (c == '?' || c == ':') {
			if (optopt && optopt < 0x100)
				exit(mg_usage_error(cmd, "bad option '-%c' or missing argument", optopt));
			exit(mg_usage_error(cmd, "bad option '%s' or missing argument",
					    argv[optind - 1]));
		}
		return c;
	}
}

int main(int argc, char **argv)
{
	unsigned int i;

	while (argc > 1 && argv[1][0] == '-') {
		if (!strcmp(argv[1], "--json")) {
			mg_json = true;
		} else if (!strcmp(argv[1], "--no-color")) {
			mg_no_color = true;
		} else if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
			usage(stdout);
			return MG_EXIT_OK;
		} else if (!strcmp(argv[1], "--version")) {
			printf("modegate %s (ABI version %u)\n", MODEGATE_VERSION,
			       MODEGATE_ABI_VERSION);
			return MG_EXIT_OK;
		} else {
			fprintf(stderr, "modegate: unknown option '%s'; try 'modegate --help'\n",
				argv[1]);
			return MG_EXIT_USAGE;
		}
		argc--;
		argv++;
	}
	if (argc < 2) {
		usage(stderr);
		return MG_EXIT_USAGE;
	}
	for (i = 0; i < MG_ARRAY_SIZE(mg_cmds); i++) {
		if (strcmp(argv[1], mg_cmds[i]->name))
			continue;
		optind = 1;
		return mg_cmds[i]->run(argc - 1, argv + 1);
	}
	fprintf(stderr, "modegate: unknown command '%s'; try 'modegate --help'\n", argv[1]);
	return MG_EXIT_USAGE;
}
