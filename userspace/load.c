// SPDX-License-Identifier: GPL-2.0
/*
 * modegate load / unload, through libkmod, with the reasons they fail.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libkmod.h>

#include "mgtool.h"

static const char *const mg_params[] = {
	"node_mode", "store_size", "trace", "max_inflight", "max_inflight_global",
	"allow_wrong_process_demo",
};

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
	out_error(err, what, hint ? "%s" : NULL, hint);
}

/* /proc/modules exists only when the kernel can load modules. */
static bool mg_kernel_has_modules(void)
{
	return access("/proc/modules", F_OK) == 0;
}

/* A modegate.ko built in the source tree the tool was run from, if any. */
static const char *mg_built_module(void)
{
	static char path[600];
	char self[512], *slash;
	ssize_t n;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return NULL;
	self[n] = 0;
	slash = strrchr(self, '/');
	if (!slash)
		return NULL;
	*slash = 0;
	snprintf(path, sizeof(path), "%s/../modegate.ko", self);
	return access(path, R_OK) ? NULL : path;
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
	struct kmod_list *list = NULL;
	struct kmod_module *mod = NULL;
	const char *file = NULL;
	char params[1024] = "";
	struct kmod_ctx *ctx;
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
	if (mg_module_loaded()) {
		explain("load", EEXIST);
		return out_end(MG_EXIT_FAIL);
	}
	ctx = kmod_new(NULL, NULL);
	if (!ctx) {
		out_error(ENOMEM, "libkmod", NULL);
		return out_end(MG_EXIT_FAIL);
	}
	if (!file) {
		err = kmod_module_new_from_lookup(ctx, "modegate", &list);
		if (!err && list)
			mod = kmod_module_get_module(list);
		else if (!err && !(file = mg_built_module()))
			err = -ENOENT;
	}
	if (file)
		err = kmod_module_new_from_path(ctx, file, &mod);
	if (!err)
		err = kmod_module_insert_module(mod, 0, params);
	if (mod)
		kmod_module_unref(mod);
	kmod_module_unref_list(list);
	kmod_unref(ctx);
	if (err) {
		explain("load", -err);
		return out_end(MG_EXIT_FAIL);
	}
	out_bool("loaded", true);
	out_str("from", "%s", file ? file : "the installed module (modprobe's search path)");
	out_str("with", "%s", *params ? params : "default parameters");
	show_params();
	return out_end(MG_EXIT_OK);
}

static int unload_run(int argc, char **argv)
{
	struct kmod_module *mod;
	struct kmod_ctx *ctx;
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
	if (!mg_module_loaded()) {
		explain("unload", ENOENT);
		return out_end(MG_EXIT_FAIL);
	}
	ctx = kmod_new(NULL, NULL);
	if (!ctx) {
		out_error(ENOMEM, "libkmod", NULL);
		return out_end(MG_EXIT_FAIL);
	}
	err = kmod_module_new_from_name(ctx, "modegate", &mod);
	if (!err) {
		err = kmod_module_remove_module(mod, 0);
		kmod_module_unref(mod);
	}
	kmod_unref(ctx);
	if (err) {
		explain("unload", -err);
		return out_end(MG_EXIT_FAIL);
	}
	out_bool("unloaded", true);
	return out_end(MG_EXIT_OK);
}

const struct mg_cmd mg_cmd_load = {
	.name = "load",
	.args = "[--file MODULE.ko] [param=value...]",
	.summary = "load the module through libkmod",
	.help = "  -f, --file MODULE.ko  load this file instead of the installed module (without\n"
		"                        either: ../modegate.ko next to this tool's directory)\n"
		"  param=value           module parameters: node_mode=0666, store_size=BYTES,\n"
		"                        trace=1, max_inflight=N, max_inflight_global=N,\n"
		"                        allow_wrong_process_demo=1\n"
		"Needs root, a kernel that can load modules, and the module not loaded yet.\n",
	.run = load_run,
};

const struct mg_cmd mg_cmd_unload = {
	.name = "unload",
	.args = "",
	.summary = "unload the module (refused while " MG_DEV " is open)",
	.help = "",
	.run = unload_run,
};
