/* work in progress */
#include "cmd.h"
int main(void){return 0;}
