// SPDX-License-Identifier: GPL-2.0
/*
 * modegate load / unload, through libkmod, with the reasons they fail.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kmodload.h"
#include "mgtool.h"

static const char *const mg_params[] = { MG_MODULE_PARAMS };

static void explain(const char *what, int err)
{
	const char *hint = NULL;

	if ((err == EPERM || err == EACCES) && geteuid())
		hint = "loading and unloading modules needs root (try sudo)";
	else if (err == EPERM)
		hint = "module loading is disabled (kernel.modules_disabled, lockdown or a signature policy)";
	else if (err == ENOSYS)
		hint = "this kernel cannot load modules: use 'make demo', which boots a VM";
	else if (err == EAGAIN || err == EBUSY)
		hint = "the module is in use: close every fd of " MG_DEV " first (fuser " MG_DEV ")";
	else if (err == ENOENT && !strcmp(what, "unload"))
		hint = "the module is not loaded";
	else if (err == ENOENT)
		hint = "modegate.ko not found for this kernel: 'make' and 'modegate load --file modegate.ko', or install it";
	else if (err == EEXIST)
		hint = "the module is already loaded: 'modegate unload' first to change parameters";
	else if (err == EINVAL)
		hint = "a parameter was refused: see the kernel log (dmesg | grep modegate)";
	else if (err == ENOEXEC)
		hint = "modegate.ko was built for another kernel (make KVER=$(uname -r))";
	else if (err == EKEYREJECTED || err == ENOKEY)
		hint = "Secure Boot refused the module's signature: install it with DKMS, which signs with /var/lib/dkms/mok.key, and enroll that key once: mokutil --import /var/lib/dkms/mok.pub, then reboot";
	out_error(err, what, hint ? "%s" : NULL, hint);
}

/* /proc/modules exists only when the kernel can load modules. */
static bool mg_kernel_has_modules(void)
{
	return access("/proc/modules", F_OK) == 0;
}

static void show_params(void)
{
	char val[64];
	unsigned int i;
	struct stat st;

	out_object("params", "parameters");
	for (i = 0; i < MG_ARRAY_SIZE(mg_params); i++)
		if (!mg_param_read(mg_params[i], val, sizeof(val)))
			out_str(mg_params[i], "%s", val);
	out_close();
	if (!stat(MG_DEV, &st)) {
		out_str("node", MG_DEV);
		out_str("node_mode", "%04o", st.st_mode & 07777);
	}
}

static int load_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL, *from;
	char params[1024] = "";
	int c, i, err;

	while ((c = mg_getopt(argc, argv, &mg_cmd_load, "f:", opts)) != -1)
		if (c == 'f')
			file = optarg;
	for (i = optind; i < argc; i++) {
		if (!strchr(argv[i], '='))
			return mg_usage_error(&mg_cmd_load, "'%s' is not param=value", argv[i]);
		if (strlen(params) + strlen(argv[i]) + 2 > sizeof(params))
			return mg_usage_error(&mg_cmd_load, "parameters too long");
		if (*params)
			strcat(params, " ");
		strcat(params, argv[i]);
	}
	out_begin();
	if (!mg_kernel_has_modules()) {
		explain("load", ENOSYS);
		return out_end(MG_EXIT_FAIL);
	}
	if (mg_loaded()) {
		explain("load", EEXIST);
		return out_end(MG_EXIT_FAIL);
	}
	err = mg_load_from(file, params, &from);
	if (err) {
		explain("load", -err);
		return out_end(MG_EXIT_FAIL);
	}
	out_bool("loaded", true);
	out_str("from", "%s", from);
	out_str("with", "%s", *params ? params : "default parameters");
	show_params();
	return out_end(MG_EXIT_OK);
}

static int unload_run(int argc, char **argv)
{
	int err;

	while (mg_getopt(argc, argv, &mg_cmd_unload, "", NULL) != -1)
		;
	if (optind < argc)
		return mg_usage_error(&mg_cmd_unload, "unexpected argument '%s'", argv[optind]);
	out_begin();
	if (!mg_kernel_has_modules()) {
		explain("unload", ENOSYS);
		return out_end(MG_EXIT_FAIL);
	}
	if (!mg_loaded()) {
		explain("unload", ENOENT);
		return out_end(MG_EXIT_FAIL);
	}
	err = mg_unload();
	if (err) {
		explain("unload", -err);
		return out_end(MG_EXIT_FAIL);
	}
	out_bool("unloaded", true);
	return out_end(MG_EXIT_OK);
}

MG_COMMAND(load, "[--file MODULE.ko] [param=value...]",
	   "load the module through libkmod",
	   "  -f, --file MODULE.ko  insert this file instead of the installed module\n"
	   "  param=value           module parameters: node_mode=0666, store_size=BYTES,\n"
	   "                        trace=1, max_inflight=N, max_inflight_global=N,\n"
	   "                        max_inflight_user=N, allow_wrong_process_demo=1\n"
	   "The installed module is loaded as modprobe loads it: options from\n"
	   "/etc/modprobe.d apply (then these), dependencies first.  When it is not\n"
	   "installed: ../modegate.ko next to this tool's directory (the build tree).\n"
	   "Needs root, a kernel that can load modules, and the module not loaded yet.\n");

MG_COMMAND(unload, "",
	   "unload the module (refused while " MG_DEV " is open)",
	   "");
