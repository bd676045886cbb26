/* Pure C encoders shared by the codec module and the http module. */
#ifndef TOKRUN_ENCODE_H
#define TOKRUN_ENCODE_H
#include <stddef.h>
#endif
