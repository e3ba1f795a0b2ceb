/* SPDX-License-Identifier: MIT */
/* dsn.c - work in progress */
#include "bav_private.h"
