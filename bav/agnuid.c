/* SPDX-License-Identifier: MIT */
/* agnuid.c - work in progress */
#include "bav_private.h"
