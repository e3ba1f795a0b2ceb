/* work in progress */
#include "cmd.h"
