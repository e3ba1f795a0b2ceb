/* SPDX-License-Identifier: MIT */
/* rules.c - work in progress */
#include "bav_private.h"
