/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the modegate selftests.
 */
#ifndef _MODEGATE_TEST_H
#define _MODEGATE_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/modegate.h>

#define MG_DEV "/dev/" MODEGATE_DEVICE_NAME

static inline int mg_stats(int fd, struct modegate_stats *st)
{
	return ioctl(fd, MODEGATE_IOC_STATS, st);
}

/* Static 32-bit test programs do not link libkmod. */
#ifndef MODEGATE_NO_KMOD
#include <libkmod.h>

/* Load modegate with @params; returns 0 or a negative errno. */
static inline int mg_load(const char *params)
{
	struct kmod_ctx *ctx = kmod_new(NULL, NULL);
	struct kmod_list *list = NULL, *l;
	int ret = -ENOENT;

	if (!ctx)
		return -ENOMEM;
	if (kmod_module_new_from_lookup(ctx, "modegate", &list) < 0 || !list) {
		kmod_unref(ctx);
		return -ENOENT;
	}
	kmod_list_foreach(l, list) {
		struct kmod_module *mod = kmod_module_get_module(l);

		ret = kmod_module_insert_module(mod, 0, params);
		kmod_module_unref(mod);
		break;
	}
	kmod_module_unref_list(list);
	kmod_unref(ctx);
	return ret;
}

/* Unload modegate; returns 0 or a negative errno (-EAGAIN while in use). */
static inline int mg_unload(void)
{
	struct kmod_ctx *ctx = kmod_new(NULL, NULL);
	struct kmod_module *mod;
	int ret;

	if (!ctx)
		return -ENOMEM;
	ret = kmod_module_new_from_name(ctx, "modegate", &mod);
	if (!ret) {
		ret = kmod_module_remove_module(mod, 0);
		kmod_module_unref(mod);
	}
	kmod_unref(ctx);
	return ret;
}

static inline int mg_loaded(void)
{
	return access("/sys/module/modegate", F_OK) == 0;
}

/* Make sure the module is loaded with default parameters. */
static inline int mg_ensure_default(void)
{
	if (mg_loaded())
		return 0;
	return mg_load("");
}

/* Reload the module with @params (NULL or "" for the defaults). */
static inline int mg_reload(const char *params)
{
	int ret;

	if (mg_loaded()) {
		ret = mg_unload();
		if (ret)
			return ret;
	}
	return mg_load(params ? params : "");
}

#endif /* MODEGATE_NO_KMOD */

#endif /* _MODEGATE_TEST_H */
