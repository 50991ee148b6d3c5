#ifndef PT_JSON_OUT_H
#define PT_JSON_OUT_H
#endif
