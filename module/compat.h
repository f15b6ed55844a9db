/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The only place in modegate that knows kernel versions: everything that
 * differs between the kernels of the test matrix (6.1 to 7.x) is wrapped
 * here, so the rest of the module is written against one API.
 */
#ifndef _MODEGATE_COMPAT_H
#define _MODEGATE_COMPAT_H

#include <linux/version.h>

/*
 * ->splice_read for a file whose ->read_iter does not use the page cache:
 * generic_file_splice_read() until 6.4, copy_splice_read() from 6.5.
 */
#if KERNEL_VERSION(6, 5, 0) <= LINUX_VERSION_CODE
#define modegate_splice_read	copy_splice_read
#else
#define modegate_splice_read	generic_file_splice_read
#endif

#endif /* _MODEGATE_COMPAT_H */
