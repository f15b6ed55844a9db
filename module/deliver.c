// SPDX-License-Identifier: GPL-2.0
/*
 * modegate delivery strategies (placeholder until the async engine lands).
 */
#include "modegate.h"
