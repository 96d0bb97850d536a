/* Header-only; SwiftPM needs one source file to build the module. */
#include "hello_services.h"
