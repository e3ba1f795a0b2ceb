/* SPDX-License-Identifier: MIT */
/* autoreply.c - work in progress */
#include "bav_private.h"
