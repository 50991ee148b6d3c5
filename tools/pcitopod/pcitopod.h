#ifndef PCITOPOD_H
#define PCITOPOD_H
#endif
