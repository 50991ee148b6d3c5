/* xen_view_json.c - (being written) */
#include "config.h"
#include "pcitopo.h"
