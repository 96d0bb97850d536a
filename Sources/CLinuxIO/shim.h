// Linux calls the Glibc module does not bring: epoll and eventfd (the funnel's parking lot of
// idle clients) and malloc_trim (handing freed pages back after a wave of parking).
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <malloc.h>
