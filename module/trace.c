// SPDX-License-Identifier: GPL-2.0
/*
 * The one file that instantiates modegate's tracepoints (trace.h).
 */
#include "modegate.h"

#define CREATE_TRACE_POINTS
#include "trace.h"
