/* cmd.h - shared declarations of the bav command */
#ifndef BAV_CMD_H
#define BAV_CMD_H
#include "bav.h"
#endif
