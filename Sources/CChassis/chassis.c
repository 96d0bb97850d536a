/* The ABI is header-only; SwiftPM needs one source file to build the module. */
#include "chassis.h"
