#ifndef PT_HISTORY_H
#define PT_HISTORY_H
#endif
