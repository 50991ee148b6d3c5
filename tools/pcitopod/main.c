#include "config.h"
#include "backend.h"
int main(void) { return 0; }
