/* SPDX-License-Identifier: MIT */
/* reason.c - work in progress */
#include "bav_private.h"
