/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The only place in modegate that knows kernel versions: everything that
 * differs between the kernels of the test matrix (6.1 to 7.x) is wrapped
 * here, so the rest of the module is written against one API.
 */
#ifndef _MODEGATE_COMPAT_H
#define _MODEGATE_COMPAT_H

#include <linux/version.h>

#endif /* _MODEGATE_COMPAT_H */
