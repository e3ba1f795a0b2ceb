/* SPDX-License-Identifier: MIT */
/* status.c - work in progress */
#include "bav_private.h"
