/* SPDX-License-Identifier: MIT */
/* arf.c - work in progress */
#include "bav_private.h"
