/* placeholder */
#include "encode.h"
