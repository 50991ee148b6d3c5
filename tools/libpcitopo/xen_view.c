/* xen_view.c - (being written) */
#include "config.h"
#include "pcitopo.h"
