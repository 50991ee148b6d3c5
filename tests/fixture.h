#ifndef PT_FIXTURE_H
#define PT_FIXTURE_H
#endif
