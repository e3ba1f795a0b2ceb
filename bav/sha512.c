/* SPDX-License-Identifier: MIT */
/* sha512.c - work in progress */
#include "bav_private.h"
