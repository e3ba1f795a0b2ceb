/* SPDX-License-Identifier: MIT */
/* heur.c - work in progress */
#include "bav_private.h"
