/* SPDX-License-Identifier: MIT */
/* ident.c - work in progress */
#include "bav_private.h"
