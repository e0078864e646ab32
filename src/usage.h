/* usage.h -- the --help texts main.c prints (usage.c). */
#ifndef RESNET_USAGE_H
#define RESNET_USAGE_H

extern const char usage_main[];
extern const char usage_classify[];
extern const char usage_summary[];
extern const char usage_bench[];
extern const char usage_calibrate[];
extern const char usage_fetch[];

#endif
