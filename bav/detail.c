/* SPDX-License-Identifier: MIT */
/* detail.c - work in progress */
#include "bav_private.h"
