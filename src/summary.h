/* summary.h -- Keras's model.summary() table for a net. */
#ifndef RESNET_SUMMARY_H
#define RESNET_SUMMARY_H

#include <stdio.h>

#include "net.h"

void summary_print(FILE *out, const struct net *n);

#endif
