/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Loading and unloading modegate through libkmod: the one copy, used by the
 * tool (load, unload, the tour's reload) and by the selftests.
 *
 * Without an explicit file, the module is inserted the way modprobe does it
 * (kmod_module_probe_insert_module): options from modprobe.d apply, then the
 * caller's, and dependencies are loaded first.  A module that is not
 * installed is taken from the build tree: modegate.ko one directory above
 * the running program (the tool in userspace/, a test in selftests/).
 */
#ifndef _MODEGATE_KMODLOAD_H
#define _MODEGATE_KMODLOAD_H

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <libkmod.h>

/* The module's parameters, for showing them and for reloading with them. */
#define MG_MODULE_PARAMS \
	"node_mode", "store_size", "trace", "max_inflight", "max_inflight_global", \
	"max_inflight_user", "allow_wrong_process_demo"

static inline int mg_loaded(void)
{
	return access("/sys/module/modegate", F_OK) == 0;
}

/* modegate.ko in the build tree the running program belongs to, or NULL. */
static inline const char *mg_built_module(void)
{
	static char path[PATH_MAX + 16];
	char self[PATH_MAX], *slash;
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

/* Insert @file, or the installed module the modprobe way; see the top. */
static inline int mg_kmod_insert(struct kmod_ctx *ctx, const char *file, const char *params,
				 const char **from)
{
	struct kmod_module *mod = NULL;
	struct kmod_list *list = NULL;
	int ret;

	if (!file) {
		ret = kmod_module_new_from_lookup(ctx, "modegate", &list);
		if (ret)
			return ret;
		if (list) {
			mod = kmod_module_get_module(list);
			kmod_module_unref_list(list);
			ret = kmod_module_probe_insert_module(mod, KMOD_PROBE_FAIL_ON_LOADED,
							      params, NULL, NULL, NULL);
			kmod_module_unref(mod);
			*from = "the installed module (modprobe's search path and modprobe.d)";
			return ret;
		}
		file = mg_built_module();
		if (!file)
			return -ENOENT;
	}
	*from = file;
	ret = kmod_module_new_from_path(ctx, file, &mod);
	if (!ret) {
		ret = kmod_module_insert_module(mod, 0, params);
		kmod_module_unref(mod);
	}
	return ret;
}

/*
 * Load modegate from @file (NULL: see the top) with @params; *@from (when
 * @from is not NULL) names what was loaded.  0 or a negative errno
 * (-EEXIST: already loaded).
 */
static inline int mg_load_from(const char *file, const char *params, const char **from)
{
	struct kmod_ctx *ctx = kmod_new(NULL, NULL);
	const char *what = NULL;
	int ret;

	if (!ctx)
		return -ENOMEM;
	ret = mg_kmod_insert(ctx, file, params ? params : "", &what);
	kmod_unref(ctx);
	if (from)
		*from = what;
	return ret;
}

static inline int mg_load(const char *params)
{
	return mg_load_from(NULL, params, NULL);
}

/* Unload modegate; 0 or a negative errno (-EAGAIN while in use). */
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

/* Reload the module with @params (NULL or "" for the defaults). */
static inline int mg_reload(const char *params)
{
	int ret;

	if (mg_loaded()) {
		ret = mg_unload();
		if (ret)
			return ret;
	}
	return mg_load(params);
}

#endif /* _MODEGATE_KMODLOAD_H */
