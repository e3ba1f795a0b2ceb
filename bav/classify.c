/* SPDX-License-Identifier: MIT */
/* classify.c - work in progress */
#include "bav_private.h"
