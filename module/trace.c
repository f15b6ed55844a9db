// SPDX-License-Identifier: GPL-2.0
/*
 * The one file that instantiates modegate's tracepoints (trace.h), and the
 * helpers that only tracing uses.
 */
#include "modegate.h"

#include <linux/preempt.h>
#include <linux/sched.h>

#define CREATE_TRACE_POINTS
#include "trace.h"

/* Which context crossed the boundary, for modegate_trace_crossing(). */
const char *modegate_ctx_name(void)
{
	if (in_nmi())
		return "nmi";
	if (in_hardirq())
		return "hardirq";
	if (in_serving_softirq())
		return "softirq";
	if (current->flags & PF_KTHREAD)
		return "kthread";
	return "process";
}
