// SPDX-License-Identifier: GPL-2.0
/*
 * modegate load / unload, through libkmod.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <libkmod.h>

#include "mgtool.h"

static void explain(const char *what, int err)
{
	fprintf(stderr, "modegate: %s: %s\n", what, strerror(-err));
	if (err == -EPERM && geteuid())
		fprintf(stderr, "  loading modules needs root (try sudo)\n");
	else if (err == -ENOSYS)
		fprintf(stderr, "  this kernel cannot load modules: use 'make demo' (a VM)\n");
	else if (err == -EAGAIN || err == -EBUSY)
		fprintf(stderr, "  the module is in use: close every fd of %s first\n", MG_DEV);
	else if (err == -ENOENT)
		fprintf(stderr, "  module not found: 'make load' or insmod modegate.ko\n");
	else if (err == -EEXIST)
		fprintf(stderr, "  the module is already loaded\n");
}

int cmd_load(int argc, char **argv)
{
	struct kmod_ctx *ctx = kmod_new(NULL, NULL);
	struct kmod_list *list = NULL;
	struct kmod_module *mod;
	char params[1024] = "";
	int i, err;

	for (i = 1; i < argc; i++) {
		if (strlen(params) + strlen(argv[i]) + 2 > sizeof(params)) {
			fprintf(stderr, "modegate: parameters too long\n");
			return MG_EXIT_USAGE;
		}
		if (i > 1)
			strcat(params, " ");
		strcat(params, argv[i]);
	}
	if (!ctx)
		return MG_EXIT_FAIL;
	err = kmod_module_new_from_lookup(ctx, "modegate", &list);
	if (err < 0 || !list) {
		explain("load", -ENOENT);
		kmod_unref(ctx);
		return MG_EXIT_FAIL;
	}
	mod = kmod_module_get_module(list);
	err = kmod_module_insert_module(mod, 0, params);
	kmod_module_unref(mod);
	kmod_module_unref_list(list);
	kmod_unref(ctx);
	if (err) {
		explain("load", err);
		return MG_EXIT_FAIL;
	}
	printf("modegate loaded%s%s\n", *params ? " with " : "", params);
	return MG_EXIT_OK;
}

int cmd_unload(int argc, char **argv)
{
	struct kmod_ctx *ctx = kmod_new(NULL, NULL);
	struct kmod_module *mod;
	int err;

	if (!ctx)
		return MG_EXIT_FAIL;
	err = kmod_module_new_from_name(ctx, "modegate", &mod);
	if (!err) {
		err = kmod_module_remove_module(mod, 0);
		kmod_module_unref(mod);
	}
	kmod_unref(ctx);
	if (err) {
		explain("unload", err);
		return MG_EXIT_FAIL;
	}
	printf("modegate unloaded\n");
	return MG_EXIT_OK;
}
